import Foundation
import ReelCore
import Testing

@testable import ReelConfig

/// `[providers.openai]`, `[providers.google]`, `[providers.kling]`, `[providers.elevenlabs]`:
/// defaults, key files, and what a reload makes of a changed key.
@Suite struct RemoteProviderConfigTests {
    func parse(_ text: String, environment: [String: String] = [:]) throws -> ReelConfig {
        try ReelConfig.parse(text, source: "test.toml", environment: environment)
    }

    func configError(_ text: String, environment: [String: String] = [:]) -> ConfigError? {
        do {
            _ = try parse(text, environment: environment)
            return nil
        } catch {
            return error as? ConfigError
        }
    }

    /// A directory with the given files, removed when `body` returns.
    func withDirectory<T>(_ files: [String: String], _ body: (URL) throws -> T) throws -> T {
        let dir = FileManager.default.temporaryDirectory.appending(path: "reeld-providers-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for (name, contents) in files {
            try contents.write(to: dir.appending(path: name), atomically: true, encoding: .utf8)
        }
        return try body(dir)
    }

    @Test func remoteProvidersAreOffByDefaultAtTheirPublicEndpoints() throws {
        let providers = try parse("").providers
        #expect(providers.remote.map(\.name) == ["openai", "google", "kling", "elevenlabs"])
        #expect(providers.remote.allSatisfy { !$0.enabled && $0.credentials.isEmpty })
        #expect(providers.remote("openai")?.baseURL == "https://api.openai.com/v1")
        #expect(providers.remote("google")?.baseURL == "https://generativelanguage.googleapis.com/v1beta")
        #expect(providers.remote("kling")?.baseURL == "https://api-singapore.klingai.com")
        #expect(providers.remote("elevenlabs")?.baseURL == "https://api.elevenlabs.io")
        #expect(providers.remote("google")?.models[.video] == "veo-3.1-generate-preview")
        #expect(providers.remote("openai")?.connectTimeout == .seconds(10))
        #expect(providers.remote("openai")?.totalTimeout == .seconds(120))
        #expect(!providers.soraEnabled)
        #expect(providers.enabledNames == ["local"])
    }

    @Test func readsEveryKeyOfAProvider() throws {
        let config = try parse(
            """
            [providers]
            default = "openai"
            [providers.openai]
            enabled = true
            base_url = "http://127.0.0.1:8089/v1/"
            api_key_file = "/etc/reeld/openai"
            sora_enabled = true
            connect_timeout_seconds = 3
            timeout_seconds = 30
            [providers.openai.models]
            "image.generate" = "gpt-image-1-mini"
            """)
        let openai = try #require(config.providers.remote("openai"))
        #expect(openai.enabled)
        #expect(openai.baseURL == "http://127.0.0.1:8089/v1")
        #expect(openai.credentials == [ProviderCredential(key: "api_key_file", path: "/etc/reeld/openai")])
        #expect(openai.models[.image] == "gpt-image-1-mini")
        #expect(openai.models[.storyboard] == "gpt-4o-2024-08-06")
        #expect(openai.connectTimeout == .seconds(3))
        #expect(openai.totalTimeout == .seconds(30))
        #expect(config.providers.soraEnabled)
        #expect(config.providers.enabledNames == ["local", "openai"])
        #expect(config.providers.defaultProvider == "openai")
    }

    @Test func enabledProviderKeysDefaultIntoTheCredentialsDirectory() throws {
        let config = try parse(
            "[providers.kling]\nenabled = true\n[providers.elevenlabs]\nenabled = true\n",
            environment: ["CREDENTIALS_DIRECTORY": "/run/credentials/reeld.service"])
        #expect(config.providers.remote("kling")?.credentials.map(\.path) == [
            "/run/credentials/reeld.service/kling-access-key", "/run/credentials/reeld.service/kling-secret-key",
        ])
        #expect(config.providers.remote("elevenlabs")?.credentials.map(\.path) == ["/run/credentials/reeld.service/elevenlabs-api-key"])

        let e = configError("[providers.google]\nenabled = true\n")
        #expect(e?.key == "providers.google.api_key_file")
        #expect(e?.message.contains("CREDENTIALS_DIRECTORY is not set") == true)
    }

    @Test func badValuesAreRejectedNamingTheKey() {
        #expect(configError("[providers.openai]\nbase_url = \"http://api.openai.com/v1\"")?.key == "providers.openai.base_url")
        #expect(configError("[providers.openai]\nbase_url = \"https://api.openai.com/v1?x=1\"")?.key == "providers.openai.base_url")
        #expect(configError("[providers.kling.models]\n\"audio.speech\" = \"x\"")?.key == "providers.kling.models.audio.speech")
        #expect(configError("[providers.kling]\nsora_enabled = true")?.key == "providers.kling.sora_enabled")
        #expect(configError("[providers.google]\nconnect_timeout_seconds = 30\ntimeout_seconds = 10")?.key == "providers.google.timeout_seconds")
        #expect(configError("[providers]\ndefault = \"kling\"")?.key == "providers.default")
        #expect(configError("[providers.acme]\nenabled = true")?.key == "providers.acme")
    }

    @Test func loadReadsTheKeysOfEnabledProvidersOnly() throws {
        try withDirectory(["kling-access-key": "AK-123\n", "kling-secret-key": " SK-456 \n"]) { dir in
            let path = dir.appending(path: "reeld.toml").path
            try "[providers.kling]\nenabled = true\n[providers.openai]\napi_key_file = \"/nonexistent/openai\"\n"
                .write(toFile: path, atomically: true, encoding: .utf8)
            let config = try ReelConfig.load(path: path, environment: ["CREDENTIALS_DIRECTORY": dir.path])
            let kling = try #require(config.providers.remote("kling"))
            #expect(kling.secret("access_key_file") == "AK-123")
            #expect(kling.secret("secret_key_file") == "SK-456")
            // A disabled provider's file is not read, so a missing one is no error.
            #expect(config.providers.remote("openai")?.credentials.first?.value == nil)
            #expect(!"\(config)".contains("SK-456"))
            #expect(!"\(kling)".contains("AK-123"))
        }
    }

    @Test func missingOrEmptyKeyFileIsAnErrorNamingKeyAndFileNotItsContents() throws {
        try withDirectory(["openai-api-key": "  \n"]) { dir in
            let path = dir.appending(path: "reeld.toml").path
            try "[providers.openai]\nenabled = true\n".write(toFile: path, atomically: true, encoding: .utf8)
            #expect {
                try ReelConfig.load(path: path, environment: ["CREDENTIALS_DIRECTORY": dir.path])
            } throws: { error in
                let e = error as? ConfigError
                return e?.key == "providers.openai.api_key_file" && e?.message.contains("\(dir.path)/openai-api-key is empty") == true
            }
            try FileManager.default.removeItem(at: dir.appending(path: "openai-api-key"))
            #expect {
                try ReelConfig.load(path: path, environment: ["CREDENTIALS_DIRECTORY": dir.path])
            } throws: { error in
                let e = error as? ConfigError
                return e?.key == "providers.openai.api_key_file" && e?.message.contains("\(dir.path)/openai-api-key") == true
            }
        }
    }

    @Test func aRotatedKeyNeedsARestartAndIsNamedWithoutItsValue() throws {
        try withDirectory(["elevenlabs-api-key": "first-key"]) { dir in
            let path = dir.appending(path: "reeld.toml").path
            let environment = ["CREDENTIALS_DIRECTORY": dir.path]
            try "[providers.elevenlabs]\nenabled = true\n".write(toFile: path, atomically: true, encoding: .utf8)
            let running = try ReelConfig.load(path: path, environment: environment)
            try "second-key".write(to: dir.appending(path: "elevenlabs-api-key"), atomically: true, encoding: .utf8)
            let new = try ReelConfig.load(path: path, environment: environment)
            #expect(running.restartOnlyChanges(in: new) == ["providers.elevenlabs.api_key_file"])
            #expect(running.applyingReloadable(from: new).providers.remote("elevenlabs")?.secret("api_key_file") == "first-key")
            #expect(running.restartOnlyChanges(in: running) == [])
        }
    }
}

/// `[routing."KIND"]`: provider order per kind.
@Suite struct RoutingConfigTests {
    func configError(_ text: String) -> ConfigError? {
        do {
            _ = try ReelConfig.parse(text, source: "test.toml")
            return nil
        } catch {
            return error as? ConfigError
        }
    }

    @Test func readsTheOrderPerKind() throws {
        let config = try ReelConfig.parse("[routing.\"video.generate\"]\nproviders = [\"google\", \"kling\"]\n")
        #expect(config.routing == [.video: ["google", "kling"]])
        #expect(try ReelConfig.parse("").routing == [:])
    }

    @Test func unknownKindsProvidersAndEmptyListsAreRejected() {
        #expect(configError("[routing.\"render.export\"]\nproviders = [\"local\"]")?.key == "routing.render.export")
        #expect(configError("[routing.\"video.generate\"]\nproviders = [\"acme\"]")?.key == "routing.video.generate.providers")
        #expect(configError("[routing.\"video.generate\"]\nproviders = []")?.key == "routing.video.generate.providers")
        #expect(configError("[routing.\"video.generate\"]\nproviders = [\"kling\", \"kling\"]")?.key == "routing.video.generate.providers")
        #expect(configError("[routing.\"video.generate\"]\norder = [\"kling\"]")?.key != nil)
    }
}
