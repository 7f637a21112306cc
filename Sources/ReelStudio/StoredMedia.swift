import ReelRender
import ReelStorage

/// A stored file with the media facts recorded on its asset row.
struct StoredMedia: Sendable, Hashable {
    var file: StoredFile
    /// Probed with libav; nil for files that are not media (JSON timelines).
    var media: MediaFacts?

    static func isMedia(_ mimeType: String) -> Bool {
        mimeType.hasPrefix("video/") || mimeType.hasPrefix("audio/") || mimeType.hasPrefix("image/")
    }
}
