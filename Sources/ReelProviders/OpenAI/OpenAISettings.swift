import Foundation

/// How reeld talks to OpenAI: where, with which key, which models by default, and how long to wait.
public struct OpenAISettings: Sendable {
    /// Which API writes text (storyboards).
    public enum TextAPI: String, Sendable {
        /// `POST /responses`, falling back to Chat Completions when the server answers 404.
        case responses
        /// `POST /chat/completions` only.
        case chatCompletions = "chat_completions"
    }

    /// Up to and including `/v1`, without a trailing slash.
    public var baseURL: String
    public var apiKey: String
    public var organization: String?
    public var project: String?
    public var textAPI: TextAPI
    public var textModel: String
    public var imageModel: String
    public var videoModel: String
    /// Sora's Videos API is announced to shut down on 2026-09-24; video is offered only when this is on.
    public var soraEnabled: Bool
    public var connectTimeout: Duration
    /// Text requests, from the first byte sent to the last received.
    public var textTimeout: Duration
    /// Image requests, which take tens of seconds and answer with the whole image.
    public var imageTimeout: Duration
    /// Video requests (create, poll) and, separately, a video's download.
    public var videoRequestTimeout: Duration
    public var downloadTimeout: Duration
    /// The largest video accepted from `/content`.
    public var maxVideoBytes: Int64
    /// The poll interval when a video's answer carries no `openai-poll-after-ms`.
    public var defaultPollInterval: Duration
    /// The longest wait taken from OpenAI's `Retry-After` (or `retry-after-ms`); a longer one is
    /// cut to this and logged, so a job is not parked for days on the provider's word.
    public var maxRetryAfter: Duration

    public init(
        apiKey: String, baseURL: String = "https://api.openai.com/v1", organization: String? = nil, project: String? = nil,
        textAPI: TextAPI = .responses, textModel: String = "gpt-4.1", imageModel: String = "gpt-image-1.5", videoModel: String = "sora-2",
        soraEnabled: Bool = false, connectTimeout: Duration = .seconds(10), textTimeout: Duration = .seconds(180),
        imageTimeout: Duration = .seconds(300), videoRequestTimeout: Duration = .seconds(60), downloadTimeout: Duration = .seconds(900),
        maxVideoBytes: Int64 = 2 << 30, defaultPollInterval: Duration = .seconds(10),
        maxRetryAfter: Duration = .seconds(600)
    ) {
        self.apiKey = apiKey
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.organization = organization
        self.project = project
        self.textAPI = textAPI
        self.textModel = textModel
        self.imageModel = imageModel
        self.videoModel = videoModel
        self.soraEnabled = soraEnabled
        self.connectTimeout = connectTimeout
        self.textTimeout = textTimeout
        self.imageTimeout = imageTimeout
        self.videoRequestTimeout = videoRequestTimeout
        self.downloadTimeout = downloadTimeout
        self.maxVideoBytes = maxVideoBytes
        self.defaultPollInterval = defaultPollInterval
        self.maxRetryAfter = maxRetryAfter
    }
}

extension OpenAISettings: RedactedSettings {
    /// Everything but the key: settings may be logged or dumped.
    public var description: String {
        "OpenAISettings(baseURL: \(baseURL), apiKey: [redacted], textAPI: \(textAPI.rawValue), textModel: \(textModel), "
            + "imageModel: \(imageModel), videoModel: \(videoModel), soraEnabled: \(soraEnabled))"
    }
}
