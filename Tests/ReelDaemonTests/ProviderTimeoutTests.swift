import Foundation
import Logging
import ReelBlocking
import ReelConfig
import ReelCore
import ReelHTTP
import ReelProviderFakes
import ReelProviders
import ReelTestSupport
import Testing

@testable import ReelDaemon

/// `[providers.NAME]`'s timeouts reach the requests of the adapter the catalog builds.
@Suite struct ProviderTimeoutTests {
    /// Writes the key file and the configuration, and loads it as `reeld run` does.
    func load(_ table: String) throws -> (ReelConfig, URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("reeld-timeouts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let key = directory.appendingPathComponent("openai-api-key")
        try FakeOpenAI.key.write(to: key, atomically: true, encoding: .utf8)
        let file = directory.appendingPathComponent("reeld.toml")
        try "[providers.openai]\nenabled = true\napi_key_file = \"\(key.path)\"\n\(table)".write(to: file, atomically: true, encoding: .utf8)
        return (try ReelConfig.load(path: file.path, environment: [:]), directory)
    }

    @Test func timeoutsFromTheConfigurationReachEveryOpenAIRequestKind() throws {
        let (config, directory) = try load("base_url = \"http://127.0.0.1:9/v1\"\nconnect_timeout_seconds = 3\ntimeout_seconds = 7\n")
        defer { try? FileManager.default.removeItem(at: directory) }
        let pool = BlockingPool(maxThreads: 1)
        defer { pool.shutdown() }
        let registry = try ProviderCatalog.registry(config: config, pool: pool, http: HTTPClient(logger: Logger(label: "test")))
        let settings = try #require(registry.providers["openai"] as? OpenAIProvider).settings
        #expect(settings.connectTimeout == .seconds(3))
        #expect(settings.textTimeout == .seconds(7))
        #expect(settings.imageTimeout == .seconds(7))
        #expect(settings.videoRequestTimeout == .seconds(7))
    }

    /// A stalling OpenAI: the image request (whose built-in limit is five minutes) ends after
    /// the configured `timeout_seconds`, as a transient timeout.
    @Test func aStalledRequestEndsAfterTheConfiguredTimeout() async throws {
        let fake = try FakeOpenAI()
        fake.script("POST /v1/images/generations", .stall)
        let (config, directory) = try load("base_url = \"\(fake.baseURL)\"\nconnect_timeout_seconds = 1\ntimeout_seconds = 2\n")
        defer { try? FileManager.default.removeItem(at: directory) }
        let pool = BlockingPool(maxThreads: 1)
        defer { pool.shutdown() }
        try await HTTPClient.withRunningClient(logger: Logger(label: "test")) { client in
            let registry = try ProviderCatalog.registry(config: config, pool: pool, http: client)
            let openai = try #require(registry.providers["openai"])
            let context = GenerationContext(workDirectory: directory.appendingPathComponent("work"), logger: Logger(label: "test"))
            let started = ContinuousClock.now
            var failure: JobError?
            do {
                _ = try await openai.generate(GenerationRequest(kind: .image, model: nil, prompt: "a lighthouse", externalID: "g-1"), context: context)
            } catch let error as JobError {
                failure = error
            }
            let elapsed = ContinuousClock.now - started
            #expect(failure?.failureClass == .transient)
            // The fake closes a stalled connection after 30 s, which ends the call as a broken
            // connection, not a timeout; so a timeout here is ours, and, well under the adapter's
            // own limit of 300 s (a loaded machine may be slow to run it), the configured one.
            #expect(failure?.message.contains("timeout") == true, "\(String(describing: failure))")
            #expect(elapsed >= .seconds(2), "not before the configured timeout")
            #expect(elapsed < .seconds(150), "ended by the configured timeout, not the adapter's own: \(elapsed)")
            #expect(fake.requests("POST /v1/images/generations").count == 1)
        }
    }
}
