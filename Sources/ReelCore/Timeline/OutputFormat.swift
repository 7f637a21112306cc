/// A container with its codecs.
public enum OutputFormat: String, Sendable, Hashable, Codable, CaseIterable {
    /// MP4 with H.264 (libx264) and AAC.
    case mp4
    /// WebM with VP9 (libvpx) and Opus.
    case webm

    public var fileExtension: String { rawValue }
    public var mimeType: String { "video/\(rawValue)" }
    /// libav's codec names, as `MediaProbe` reports them.
    public var videoCodec: String { self == .mp4 ? "h264" : "vp9" }
    public var audioCodec: String { self == .mp4 ? "aac" : "opus" }
    public var defaultQuality: Int { self == .mp4 ? 23 : 32 }
    public var qualityRange: ClosedRange<Int> { self == .mp4 ? 0...51 : 0...63 }
    public var defaultAudioBitrate: Int { self == .mp4 ? 192_000 : 128_000 }
}
