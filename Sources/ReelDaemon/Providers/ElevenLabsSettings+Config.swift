import ReelConfig
import ReelCore
import ReelProviders

extension ElevenLabsSettings {
    /// `[providers.elevenlabs]` as the adapter takes it: the key read at start, the endpoint, the
    /// models per kind and the timeouts. `timeout_seconds` bounds a speech or sound-effect call;
    /// music, which takes minutes to compose, waits at least its own default.
    init(_ remote: RemoteProvider) {
        self.init(apiKey: remote.secret("api_key_file") ?? "", baseURL: remote.baseURL, connectTimeout: remote.connectTimeout)
        if let model = remote.models[.speech] { speechModel = model }
        if let model = remote.models[.soundEffect] { soundEffectModel = model }
        if let model = remote.models[.music] { musicModel = model }
        speechTimeout = remote.totalTimeout
        soundEffectTimeout = remote.totalTimeout
        musicTimeout = max(remote.totalTimeout, musicTimeout)
    }
}
