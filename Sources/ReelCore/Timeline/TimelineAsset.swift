/// What validation needs to know about an asset a timeline names: how long it is and what it holds.
/// The renderer fills these in by probing files; the daemon from its asset rows.
public struct TimelineAsset: Sendable, Hashable {
    /// Nil when the length is unknown (then in/out points are not checked against it).
    public var durationSeconds: Double?
    public var hasVideo: Bool
    public var hasAudio: Bool
    /// Why the asset cannot be used (a corrupt or unsupported file), when it cannot.
    public var unreadable: String?

    public init(durationSeconds: Double?, hasVideo: Bool, hasAudio: Bool) {
        self.durationSeconds = durationSeconds
        self.hasVideo = hasVideo
        self.hasAudio = hasAudio
    }

    /// An asset that exists but cannot be read, with the reason.
    public init(unreadable reason: String) {
        self.init(durationSeconds: nil, hasVideo: false, hasAudio: false)
        unreadable = reason
    }
}
