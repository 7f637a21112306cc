/// What the render writes: container and codecs, picture size and rate, quality, loudness.
public struct TimelineOutput: Sendable, Hashable, Codable {
    /// x264's speed presets, fastest first; VP9 maps them onto its `cpu-used` levels.
    public static let presets = ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"]
    public static let defaultLoudness = -14.0

    public var format: OutputFormat
    /// Even numbers; clips of another shape are letterboxed or pillarboxed into it.
    public var width: Int
    public var height: Int
    public var fps: Double
    /// Constant rate factor: lower is better and bigger. Nil takes the codec's default
    /// (H.264 23 on 0–51, VP9 32 on 0–63).
    public var quality: Int?
    public var preset: String
    /// Audio bits per second; nil takes the codec's default (AAC 192k, Opus 128k).
    public var audioBitrate: Int?
    /// Integrated loudness target in LUFS (streaming platforms use −14); nil leaves levels as mixed.
    public var loudness: Double?

    public init(
        format: OutputFormat = .mp4, width: Int = 1280, height: Int = 720, fps: Double = 30, quality: Int? = nil,
        preset: String = "veryfast", audioBitrate: Int? = nil, loudness: Double? = TimelineOutput.defaultLoudness
    ) {
        self.format = format
        self.width = width
        self.height = height
        self.fps = fps
        self.quality = quality
        self.preset = preset
        self.audioBitrate = audioBitrate
        self.loudness = loudness
    }

    /// The quality the encoder uses.
    public var effectiveQuality: Int { quality ?? format.defaultQuality }
    public var effectiveAudioBitrate: Int { audioBitrate ?? format.defaultAudioBitrate }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case format, width, height, fps, quality, preset, audioBitrate = "audio_bitrate", loudness
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        format = try c.decodeIfPresent(OutputFormat.self, forKey: .format) ?? .mp4
        width = try c.decodeIfPresent(Int.self, forKey: .width) ?? 1280
        height = try c.decodeIfPresent(Int.self, forKey: .height) ?? 720
        fps = try c.decodeIfPresent(Double.self, forKey: .fps) ?? 30
        quality = try c.decodeIfPresent(Int.self, forKey: .quality)
        preset = try c.decodeIfPresent(String.self, forKey: .preset) ?? "veryfast"
        audioBitrate = try c.decodeIfPresent(Int.self, forKey: .audioBitrate)
        // Absent takes the default target; an explicit null turns loudness normalisation off.
        loudness = c.contains(.loudness) ? try c.decodeIfPresent(Double.self, forKey: .loudness) : Self.defaultLoudness
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(format, forKey: .format)
        try c.encode(width, forKey: .width)
        try c.encode(height, forKey: .height)
        try c.encode(fps, forKey: .fps)
        try c.encodeIfPresent(quality, forKey: .quality)
        try c.encode(preset, forKey: .preset)
        try c.encodeIfPresent(audioBitrate, forKey: .audioBitrate)
        if let loudness { try c.encode(loudness, forKey: .loudness) } else { try c.encodeNil(forKey: .loudness) }
    }
}
