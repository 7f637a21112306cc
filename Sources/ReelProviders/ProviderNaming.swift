import Foundation
import Logging
import ReelHTTP

/// The small naming rules every adapter shares: ids as file names and path segments, an image's
/// MIME type, and the metadata of a logged exchange.
enum ProviderNaming {
    /// An id as a file name in the work directory: letters, digits, `-` and `_`, at most 80
    /// characters (the end kept: that is where a long operation name is unique).
    static func fileName(_ text: String) -> String {
        String(text.map { isSafe($0) ? $0 : "_" }.suffix(80))
    }

    /// An id from a provider or a stored task as one path segment: anything but letters,
    /// digits, `-` and `_` gives `fallback`, so an id cannot reach another path.
    static func pathSegment(_ id: String, fallback: String) -> String {
        !id.isEmpty && id.allSatisfy(isSafe) ? id : fallback
    }

    static func isSafe(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || character == "-" || character == "_")
    }

    /// An image's MIME type from its file name: JPEG, WebP, else PNG.
    static func imageType(named url: URL) -> String {
        switch url.pathExtension.lowercased() {
        case "jpg", "jpeg": "image/jpeg"
        case "webp": "image/webp"
        default: "image/png"
        }
    }

    /// Method, path and the provider's request id, under `provider.`: never a header value, so
    /// never a key or a token.
    static func metadata(_ provider: String, _ request: HTTPRequest, requestID: String?, extra: Logger.Metadata) -> Logger.Metadata {
        var metadata = extra
        metadata["\(provider).request"] = "\(request.method) \(URL(string: request.url)?.path ?? "?")"
        if let requestID { metadata["\(provider).request_id"] = "\(requestID)" }
        return metadata
    }
}
