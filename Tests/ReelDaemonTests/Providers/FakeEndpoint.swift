import ReelProviderFakes

/// One remote provider as the nodes under test see it: its `[providers.NAME]` table pointing at
/// a fake in the test process, and the key files `LoadCredential=` would give the service.
struct FakeEndpoint: Sendable {
    var name: String
    /// The fake's API root, as the adapter wants it (OpenAI's ends in `/v1`).
    var baseURL: String
    /// Credential file name (`openai-api-key`, `kling-access-key`, …) → what the file holds.
    var keys: [String: String]
    /// More lines for the provider's table (`sora_enabled = true`, timeouts).
    var lines: [String] = []

    /// The provider's table; its key files are found by their default names in
    /// `CREDENTIALS_DIRECTORY`, as under systemd.
    var configText: String {
        (["[providers.\(name)]", "enabled = true", "base_url = \"\(baseURL)\""] + lines).joined(separator: "\n") + "\n"
    }
}

extension FakeEndpoint {
    /// OpenAI at `fake`, its key in `openai-api-key`; Sora only when `sora`.
    static func openAI(_ fake: FakeOpenAI, sora: Bool = false) -> FakeEndpoint {
        FakeEndpoint(name: "openai", baseURL: fake.baseURL, keys: ["openai-api-key": FakeOpenAI.key], lines: sora ? ["sora_enabled = true"] : [])
    }
}

extension FakeEndpoint {
    /// Google at `fake` (its root ends in `/v1beta`), its key in `google-api-key`.
    static func google(_ fake: FakeGoogle) -> FakeEndpoint {
        FakeEndpoint(name: "google", baseURL: fake.baseURL, keys: ["google-api-key": FakeGoogle.key])
    }

    /// Kling at `fake`, its key pair in `kling-access-key` and `kling-secret-key`.
    static func kling(_ fake: FakeKling) -> FakeEndpoint {
        FakeEndpoint(name: "kling", baseURL: fake.baseURL, keys: ["kling-access-key": FakeKling.accessKey, "kling-secret-key": FakeKling.secretKey])
    }

    /// ElevenLabs at `fake`, its key in `elevenlabs-api-key`.
    static func elevenLabs(_ fake: FakeElevenLabs) -> FakeEndpoint {
        FakeEndpoint(name: "elevenlabs", baseURL: fake.baseURL, keys: ["elevenlabs-api-key": FakeElevenLabs.key])
    }
}
