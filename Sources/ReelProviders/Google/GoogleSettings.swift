import Foundation

/// How reeld talks to Google's Gemini API (the Developer API, not Vertex AI): where, with which
/// key, which models by default, how long to wait and how much to accept.
public struct GoogleSettings: Sendable {
    /// Up to and including the API version (`…/v1beta`), without a trailing slash.
    public var baseURL: String
    /// Sent as `x-goog-api-key`, never in a URL.
    public var apiKey: String
    /// Storyboards: a Gemini text model with structured (JSON Schema) output.
    public var textModel: String
    /// Images: a Gemini image model ("Nano Banana").
    public var imageModel: String
    /// Videos: Veo, through `predictLongRunning`.
    public var videoModel: String
    public var connectTimeout: Duration
    /// Text requests, from the first byte sent to the last received.
    public var textTimeout: Duration
    /// Image requests: tens of seconds, and the whole image comes back in the answer.
    public var imageTimeout: Duration
    /// Starting a video and each poll of its operation.
    public var videoRequestTimeout: Duration
    /// A finished video's download.
    public var downloadTimeout: Duration
    /// How often a pending video operation is asked about (Google's examples poll every 10 s).
    public var pollInterval: Duration
    /// The largest answer to `generateContent` held in memory (an image arrives base64 in it).
    public var maxImageResponseBytes: Int64
    /// The largest video accepted from a download.
    public var maxVideoBytes: Int64

    public init(
        apiKey: String, baseURL: String = "https://generativelanguage.googleapis.com/v1beta",
        textModel: String = "gemini-2.5-flash", imageModel: String = "gemini-2.5-flash-image", videoModel: String = "veo-3.1-generate-preview",
        connectTimeout: Duration = .seconds(10), textTimeout: Duration = .seconds(180), imageTimeout: Duration = .seconds(300),
        videoRequestTimeout: Duration = .seconds(60), downloadTimeout: Duration = .seconds(900), pollInterval: Duration = .seconds(10),
        maxImageResponseBytes: Int64 = 128 << 20, maxVideoBytes: Int64 = 2 << 30
    ) {
        self.apiKey = apiKey
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.textModel = textModel
        self.imageModel = imageModel
        self.videoModel = videoModel
        self.connectTimeout = connectTimeout
        self.textTimeout = textTimeout
        self.imageTimeout = imageTimeout
        self.videoRequestTimeout = videoRequestTimeout
        self.downloadTimeout = downloadTimeout
        self.pollInterval = pollInterval
        self.maxImageResponseBytes = maxImageResponseBytes
        self.maxVideoBytes = maxVideoBytes
    }
}

extension GoogleSettings: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Everything but the key: settings may be logged or dumped.
    public var description: String {
        "GoogleSettings(baseURL: \(baseURL), apiKey: [redacted], textModel: \(textModel), imageModel: \(imageModel), videoModel: \(videoModel))"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror { Mirror(self, children: ["description": description], displayStyle: .struct) }
}
