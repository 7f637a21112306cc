import Foundation

/// How reeld talks to Kling: where, with which key pair, which models by default, how long to
/// wait and how much to accept.
public struct KlingSettings: Sendable {
    /// The API's root without a trailing slash (`https://api-singapore.klingai.com`); the paths
    /// (`/v1/videos/text2video`…) are appended.
    public var baseURL: String
    /// The JWT's issuer.
    public var accessKey: String
    /// Signs the JWT; never sent.
    public var secretKey: String
    /// The video model when a job names none: `kling-v2-6`; `kling-video-o1` and `kling-v3-omni`
    /// go to the omni-video endpoint.
    public var videoModel: String
    public var imageModel: String
    /// `std` (720p) or `pro` (1080p, costs more).
    public var mode: String
    /// Sent only to the models that take it (kling-v1 family); nil leaves Kling's default.
    public var cfgScale: Double?
    public var connectTimeout: Duration
    /// Each create, poll and lookup call, from the first byte sent to the last received.
    public var requestTimeout: Duration
    /// Each download of a finished video or image.
    public var downloadTimeout: Duration
    /// How long a pending task waits before it is asked again. Kling documents no pace; a video
    /// takes one to several minutes.
    public var pollInterval: Duration
    /// The largest video and image accepted from Kling's CDN.
    public var maxVideoBytes: Int64
    public var maxImageBytes: Int64
    /// The largest start, end or reference image sent inline (Kling refuses more than 10 MB).
    public var maxInputImageBytes: Int

    public init(
        accessKey: String, secretKey: String, baseURL: String = "https://api-singapore.klingai.com",
        videoModel: String = "kling-v2-6", imageModel: String = "kling-v2-1", mode: String = "std", cfgScale: Double? = nil,
        connectTimeout: Duration = .seconds(10), requestTimeout: Duration = .seconds(60), downloadTimeout: Duration = .seconds(900),
        pollInterval: Duration = .seconds(15), maxVideoBytes: Int64 = 1 << 30, maxImageBytes: Int64 = 64 << 20,
        maxInputImageBytes: Int = 10 << 20
    ) {
        self.accessKey = accessKey
        self.secretKey = secretKey
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.videoModel = videoModel
        self.imageModel = imageModel
        self.mode = mode
        self.cfgScale = cfgScale
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
        self.downloadTimeout = downloadTimeout
        self.pollInterval = pollInterval
        self.maxVideoBytes = maxVideoBytes
        self.maxImageBytes = maxImageBytes
        self.maxInputImageBytes = maxInputImageBytes
    }
}

extension KlingSettings: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Everything but the keys: settings may be logged or dumped.
    public var description: String {
        "KlingSettings(baseURL: \(baseURL), accessKey: [redacted], secretKey: [redacted], videoModel: \(videoModel), "
            + "imageModel: \(imageModel), mode: \(mode))"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror { Mirror(self, children: ["description": description], displayStyle: .struct) }
}
