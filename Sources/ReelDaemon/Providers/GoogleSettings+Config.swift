import ReelConfig
import ReelCore
import ReelProviders

extension GoogleSettings {
    /// `[providers.google]` as the adapter takes it: the key read at start, the endpoint, the
    /// models per kind and the timeouts. `timeout_seconds` bounds each request (a text or an
    /// image answer, starting or polling a video); a video's download keeps its own, longer limit.
    init(_ remote: RemoteProvider) {
        self.init(apiKey: remote.secret("api_key_file") ?? "", baseURL: remote.baseURL, connectTimeout: remote.connectTimeout)
        if let model = remote.models[.storyboard] { textModel = model }
        if let model = remote.models[.image] { imageModel = model }
        if let model = remote.models[.video] { videoModel = model }
        textTimeout = remote.totalTimeout
        imageTimeout = remote.totalTimeout
        videoRequestTimeout = remote.totalTimeout
    }
}
