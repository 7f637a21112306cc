import ReelConfig
import ReelCore
import ReelProviders

extension KlingSettings {
    /// `[providers.kling]` as the adapter takes it: the access and secret keys read at start, the
    /// endpoint, the models per kind and the timeouts. `timeout_seconds` bounds each create, poll
    /// and lookup; downloads from Kling's CDN keep their own, longer limit.
    init(_ remote: RemoteProvider) {
        self.init(
            accessKey: remote.secret("access_key_file") ?? "", secretKey: remote.secret("secret_key_file") ?? "", baseURL: remote.baseURL,
            connectTimeout: remote.connectTimeout, requestTimeout: remote.totalTimeout)
        if let model = remote.models[.video] { videoModel = model }
        if let model = remote.models[.image] { imageModel = model }
    }
}
