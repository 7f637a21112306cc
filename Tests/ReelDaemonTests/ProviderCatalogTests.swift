import ReelBlocking
import Logging
import ReelConfig
import ReelHTTP
import ReelProviders
import Testing

@testable import ReelDaemon

/// Which enabled providers this build can run, asked by `reeld check-config` and a starting node.
@Suite struct ProviderCatalogTests {
    let credentials = ["CREDENTIALS_DIRECTORY": "/run/credentials/reeld.service"]

    @Test func theDefaultConfigurationRunsTheLocalProvider() throws {
        let config = try ReelConfig.parse("")
        #expect(ProviderCatalog.problems(in: config) == [])
        let pool = BlockingPool(maxThreads: 1)
        defer { pool.shutdown() }
        let registry = try ProviderCatalog.registry(config: config, pool: pool, http: HTTPClient(logger: Logger(label: "test")))
        #expect(registry.providers.keys.sorted() == ["local"])
        #expect(registry.defaultName == "local")
    }

    @Test func anEnabledProviderWithoutAnAdapterIsRefusedNamingItsKey() throws {
        // Every provider the config knows has an adapter by now: a build without Kling's stands in.
        let withoutKling = ProviderCatalog.factories.filter { $0.key != "kling" }
        let config = try ReelConfig.parse("[providers.kling]\nenabled = true\n", environment: credentials)
        let problems = ProviderCatalog.problems(in: config, factories: withoutKling)
        #expect(problems.count == 1)
        #expect(problems.first?.hasPrefix("providers.kling.enabled: provider \"kling\" is not available in this build") == true)
        // The list names what that build has, not kling (other adapters may join it).
        #expect(problems.first?.hasSuffix("(available: \(withoutKling.keys.sorted().joined(separator: ", ")))") == true)
        #expect(withoutKling["local"] != nil)
        let pool = BlockingPool(maxThreads: 1)
        defer { pool.shutdown() }
        #expect(throws: ProviderCatalogError.self) {
            try ProviderCatalog.registry(config: config, pool: pool, http: HTTPClient(logger: Logger(label: "test")), factories: withoutKling)
        }
    }

    @Test func anEnabledKlingIsBuiltFromItsTable() throws {
        let config = try ReelConfig.parse("""
            [providers.kling]
            enabled = true
            base_url = "http://127.0.0.1:9/"
            timeout_seconds = 45
            [providers.kling.models]
            "video.generate" = "kling-video-o1"
            """, environment: credentials)
        #expect(ProviderCatalog.problems(in: config) == [])
        let pool = BlockingPool(maxThreads: 1)
        defer { pool.shutdown() }
        let registry = try ProviderCatalog.registry(config: config, pool: pool, http: HTTPClient(logger: Logger(label: "test")))
        let kling = try #require(registry.providers["kling"] as? KlingProvider)
        #expect(kling.settings.baseURL == "http://127.0.0.1:9")
        #expect(kling.settings.videoModel == "kling-video-o1")
        #expect(kling.settings.requestTimeout == .seconds(45))
        #expect(kling.capabilities == [.video, .image])
    }

    @Test func anEnabledOpenAIIsBuiltFromItsTable() throws {
        let config = try ReelConfig.parse("""
            [providers.openai]
            enabled = true
            base_url = "http://127.0.0.1:9/v1"
            [providers.openai.models]
            "image.generate" = "gpt-image-1"
            """, environment: credentials)
        #expect(ProviderCatalog.problems(in: config) == [])
        let pool = BlockingPool(maxThreads: 1)
        defer { pool.shutdown() }
        let registry = try ProviderCatalog.registry(config: config, pool: pool, http: HTTPClient(logger: Logger(label: "test")))
        let openai = try #require(registry.providers["openai"] as? OpenAIProvider)
        #expect(openai.settings.baseURL == "http://127.0.0.1:9/v1")
        #expect(openai.settings.imageModel == "gpt-image-1")
        #expect(!openai.capabilities.contains(.video))
    }

    @Test func anEnabledGoogleIsBuiltFromItsTable() throws {
        let config = try ReelConfig.parse("""
            [providers.google]
            enabled = true
            base_url = "http://127.0.0.1:9/v1beta/"
            timeout_seconds = 45
            [providers.google.models]
            "image.generate" = "gemini-3-pro-image-preview"
            """, environment: credentials)
        #expect(ProviderCatalog.problems(in: config) == [])
        let pool = BlockingPool(maxThreads: 1)
        defer { pool.shutdown() }
        let registry = try ProviderCatalog.registry(config: config, pool: pool, http: HTTPClient(logger: Logger(label: "test")))
        let google = try #require(registry.providers["google"] as? GoogleProvider)
        #expect(google.settings.baseURL == "http://127.0.0.1:9/v1beta")
        #expect(google.settings.imageModel == "gemini-3-pro-image-preview")
        #expect(google.settings.textModel == "gemini-2.5-flash")
        #expect(google.settings.videoModel == "veo-3.1-generate-preview")
        #expect(google.settings.textTimeout == .seconds(45))
        #expect(google.settings.videoRequestTimeout == .seconds(45))
        #expect(google.capabilities.contains(.video))
    }

    @Test func anEnabledElevenLabsIsBuiltFromItsTable() throws {
        let config = try ReelConfig.parse("""
            [providers.elevenlabs]
            enabled = true
            base_url = "http://127.0.0.1:9"
            timeout_seconds = 200
            [providers.elevenlabs.models]
            "audio.speech" = "eleven_flash_v2_5"
            "audio.music" = "music_v2"
            """, environment: credentials)
        #expect(ProviderCatalog.problems(in: config) == [])
        let pool = BlockingPool(maxThreads: 1)
        defer { pool.shutdown() }
        let registry = try ProviderCatalog.registry(config: config, pool: pool, http: HTTPClient(logger: Logger(label: "test")))
        let elevenlabs = try #require(registry.providers["elevenlabs"] as? ElevenLabsProvider)
        #expect(elevenlabs.settings.baseURL == "http://127.0.0.1:9")
        #expect(elevenlabs.settings.speechModel == "eleven_flash_v2_5")
        #expect(elevenlabs.settings.musicModel == "music_v2")
        #expect(elevenlabs.settings.soundEffectModel == "eleven_text_to_sound_v2")
        #expect(elevenlabs.settings.speechTimeout == .seconds(200))
        #expect(elevenlabs.settings.musicTimeout == .seconds(600))
        #expect(elevenlabs.capabilities == [.speech, .soundEffect, .music])
    }

    @Test func aDisabledProviderNeedsNoAdapter() throws {
        let config = try ReelConfig.parse("[providers.google]\nenabled = false\n[providers.local]\nenabled = true\n")
        #expect(ProviderCatalog.problems(in: config) == [])
    }
}
