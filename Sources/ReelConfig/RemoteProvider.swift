import ReelCore

/// `[providers.NAME]` for a provider reached over HTTPS (openai, google, kling, elevenlabs):
/// whether this node uses it, where it is, its keys, its default models and its timeouts.
public struct RemoteProvider: Sendable, Hashable, CustomStringConvertible {
    /// The provider's name in config, job args and logs.
    public var name: String
    /// Off by default: a provider costs money and needs keys, so an operator turns it on.
    public var enabled: Bool
    /// The API's root, without a trailing slash; adapters append their paths.
    public var baseURL: String
    /// The key files this provider needs, in the order of ``RemoteProvider/credentialKeys``.
    /// Empty while the provider is disabled and names no file.
    public var credentials: [ProviderCredential]
    /// The model used for a job of this kind that names none (`args.model`).
    public var models: [JobKind: String]
    /// Most time to establish a connection (TCP and TLS).
    public var connectTimeout: Duration
    /// Most time for one whole request, answer included; downloads have their own limits.
    public var totalTimeout: Duration

    public init(
        name: String, enabled: Bool = false, baseURL: String? = nil, credentials: [ProviderCredential] = [],
        models: [JobKind: String]? = nil, connectTimeout: Duration = .seconds(10), totalTimeout: Duration = .seconds(120)
    ) {
        self.name = name
        self.enabled = enabled
        self.baseURL = baseURL ?? Self.defaultBaseURLs[name] ?? ""
        self.credentials = credentials
        self.models = models ?? Self.defaultModels[name] ?? [:]
        self.connectTimeout = connectTimeout
        self.totalTimeout = totalTimeout
    }

    /// The value a credential holds after loading, by its config key (`api_key_file`).
    public func secret(_ key: String) -> String? {
        credentials.first { $0.key == key }?.value
    }

    /// Never shows a key, only the files they come from.
    public var description: String {
        "RemoteProvider(\(name), enabled: \(enabled), baseURL: \(baseURL), credentials: [\(credentials.map(\.description).joined(separator: ", "))])"
    }

    /// The providers reached over HTTPS, in the order the config documents them.
    public static let names = ["openai", "google", "kling", "elevenlabs"]

    /// The public endpoints.
    public static let defaultBaseURLs: [String: String] = [
        "openai": "https://api.openai.com/v1",
        "google": "https://generativelanguage.googleapis.com/v1beta",
        // The global host; api.klingai.com is the older name and serves mainland China.
        "kling": "https://api-singapore.klingai.com",
        "elevenlabs": "https://api.elevenlabs.io",
    ]

    /// The keys each provider needs and the file names they default to in
    /// `${CREDENTIALS_DIRECTORY}` (systemd's `LoadCredential=`).
    public static let credentialKeys: [String: [(key: String, file: String)]] = [
        "openai": [("api_key_file", "openai-api-key")],
        "google": [("api_key_file", "google-api-key")],
        // Kling signs a short-lived JWT with the secret key; the access key is its issuer.
        "kling": [("access_key_file", "kling-access-key"), ("secret_key_file", "kling-secret-key")],
        "elevenlabs": [("api_key_file", "elevenlabs-api-key")],
    ]

    /// The kinds each provider can make, with the model a job gets when it names none.
    public static let defaultModels: [String: [JobKind: String]] = [
        "openai": [.storyboard: "gpt-4o-2024-08-06", .image: "gpt-image-1.5", .video: "sora-2"],
        "google": [.storyboard: "gemini-2.5-flash", .image: "gemini-2.5-flash-image", .video: "veo-3.1-generate-preview"],
        "kling": [.video: "kling-v2-6", .image: "kling-v2-1"],
        "elevenlabs": [.speech: "eleven_multilingual_v2", .soundEffect: "eleven_text_to_sound_v2", .music: "music_v1"],
    ]
}
