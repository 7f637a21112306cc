import Foundation

/// A file in storage, with the facts recorded on its asset row.
public struct StoredFile: Sendable, Hashable {
    /// Path under the storage root, e.g. `projects/<id>/videos/clip-01.mp4`.
    public var key: String
    public var url: URL
    public var sizeBytes: Int64
    /// Lower-case hex SHA-256 of the content.
    public var sha256: String
    public var mimeType: String
}
