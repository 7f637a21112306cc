import Foundation

/// What a render did and what it wrote.
public struct RenderReport: Sendable, Hashable {
    public enum Method: String, Sendable, Hashable, Codable {
        /// Video packets copied from the inputs, joined end to end; only the sound (if anything) mixed.
        case streamCopy = "stream_copy"
        /// Decoded, filtered in one graph and encoded.
        case filterGraph = "filter_graph"
        /// Transitions and overlays rendered and encoded, the rest of the picture copied from
        /// the clips, joined in one stream (`copiedFraction` says how much was copied).
        case mixed
    }

    public var method: Method
    /// What libav reads back from the finished file.
    public var facts: MediaFacts
    /// The soundtrack's integrated loudness as rendered, LUFS (nil when silent or copied).
    public var loudness: Double?
    /// Assets that were normalised for this render (not found in the cache).
    public var normalized: [String]
    /// The share of the film's frames copied from the inputs rather than encoded (1 for
    /// `streamCopy`, 0 for `filterGraph`).
    public var copiedFraction: Double
    /// Why the fast path (all copied, or mixed) was not taken, when it was not.
    public var fullRenderReason: String?
}
