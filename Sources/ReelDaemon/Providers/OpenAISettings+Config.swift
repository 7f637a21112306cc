import ReelConfig
import ReelCore
import ReelProviders

extension OpenAISettings {
    /// `[providers.openai]` as the adapter takes it: the key read at start, the endpoint, the
    /// models per kind and the timeouts. `timeout_seconds` bounds each request (create, poll,
    /// a text or an image answer); a video's download keeps its own, longer limit.
    init(_ remote: RemoteProvider, soraEnabled: Bool) {
        self.init(apiKey: remote.secret("api_key_file") ?? "", baseURL: remote.baseURL, soraEnabled: soraEnabled, connectTimeout: remote.connectTimeout)
        if let model = remote.models[.storyboard] { textModel = model }
        if let model = remote.models[.image] { imageModel = model }
        if let model = remote.models[.video] { videoModel = model }
        textTimeout = remote.totalTimeout
        imageTimeout = remote.totalTimeout
        videoRequestTimeout = remote.totalTimeout
    }
}
