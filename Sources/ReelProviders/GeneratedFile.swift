import Foundation

/// A file a generation wrote under its work directory, with its MIME type.
public struct GeneratedFile: Sendable, Hashable {
    public var url: URL
    public var mimeType: String

    public init(url: URL, mimeType: String) {
        self.url = url
        self.mimeType = mimeType
    }
}
