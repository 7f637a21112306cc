/// What a media file holds, as libav sees it: container, duration and streams.
public struct MediaFacts: Sendable, Codable, Hashable {
    /// The demuxer's name ("mov,mp4,m4a,3gp,3g2,mj2", "png_pipe", "wav").
    public var formatName: String
    /// The container's duration; nil for still images and streams that do not say.
    public var durationSeconds: Double?
    public var streams: [StreamFacts]

    public init(formatName: String, durationSeconds: Double?, streams: [StreamFacts]) {
        self.formatName = formatName
        self.durationSeconds = durationSeconds
        self.streams = streams
    }

    public var videoStream: StreamFacts? { streams.first { $0.type == .video } }
    public var audioStream: StreamFacts? { streams.first { $0.type == .audio } }
    public var hasVideo: Bool { videoStream != nil }
    public var hasAudio: Bool { audioStream != nil }
    public var width: Int? { videoStream?.width }
    public var height: Int? { videoStream?.height }
    /// The video codec's short name ("h264", "png").
    public var videoCodec: String? { videoStream?.codecName }
    /// The audio codec's short name ("aac", "pcm_s16le").
    public var audioCodec: String? { audioStream?.codecName }
}

/// One stream of a media file.
public struct StreamFacts: Sendable, Codable, Hashable {
    public enum StreamType: String, Sendable, Codable, Hashable {
        case video, audio, other
    }

    public var index: Int
    public var type: StreamType
    public var codecName: String
    /// Video only.
    public var width: Int?
    public var height: Int?
    /// Video only: the average frame rate, when the container knows it.
    public var framesPerSecond: Double?
    /// Video only: libav's pixel format name ("yuv420p").
    public var pixelFormat: String?
    /// Audio only.
    public var sampleRate: Int?
    public var channels: Int?
    public var durationSeconds: Double?

    public init(
        index: Int, type: StreamType, codecName: String, width: Int? = nil, height: Int? = nil,
        framesPerSecond: Double? = nil, pixelFormat: String? = nil, sampleRate: Int? = nil, channels: Int? = nil,
        durationSeconds: Double? = nil
    ) {
        self.index = index
        self.type = type
        self.codecName = codecName
        self.width = width
        self.height = height
        self.framesPerSecond = framesPerSecond
        self.pixelFormat = pixelFormat
        self.sampleRate = sampleRate
        self.channels = channels
        self.durationSeconds = durationSeconds
    }
}
