/// The seed's storage layout: `projects/<id>/images|videos|audio|exports/…`.
public enum StorageCategory: String, Sendable, CaseIterable {
    case images, videos, audio, exports

    /// The folder for a MIME type; timelines and other documents go with exports.
    public static func forMIMEType(_ mime: String) -> StorageCategory {
        if mime.hasPrefix("image/") { return .images }
        if mime.hasPrefix("video/") { return .videos }
        if mime.hasPrefix("audio/") { return .audio }
        return .exports
    }
}
