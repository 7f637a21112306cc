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
        let config = try ReelConfig.parse("[providers.kling]\nenabled = true\n", environment: credentials)
        let problems = ProviderCatalog.problems(in: config)
        #expect(problems.count == 1)
        #expect(problems.first?.hasPrefix("providers.kling.enabled: provider \"kling\" is not available in this build") == true)
        let pool = BlockingPool(maxThreads: 1)
        defer { pool.shutdown() }
        #expect(throws: ProviderCatalogError.self) {
            try ProviderCatalog.registry(config: config, pool: pool, http: HTTPClient(logger: Logger(label: "test")))
        }
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
