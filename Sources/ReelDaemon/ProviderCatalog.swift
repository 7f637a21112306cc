import Foundation
import ReelBlocking
import ReelConfig
import ReelCore
import ReelHTTP
import ReelProviders

/// The provider adapters this build has, and how each is made from the configuration.
///
/// The one place an adapter registers: `reeld check-config` and a starting node both ask it, so
/// a provider enabled in the config but without an adapter in this build is refused with the same
/// message before anything runs, rather than failing each job that routes to it.
public enum ProviderCatalog {
    /// What an adapter needs to be built: the whole configuration (its own table, keys and
    /// timeouts), the node's pool for blocking media work and its shared HTTP client.
    typealias Factory = @Sendable (ReelConfig, BlockingPool, HTTPClient) -> any Provider

    /// The adapters by provider name. An adapter lands by adding its line here.
    static let factories: [String: Factory] = [
        "local": { config, pool, _ in
            LocalProvider(
                tasksDirectory: URL(fileURLWithPath: config.providers.local.tasksDirectory),
                configuration: .init(videoDelay: config.providers.local.videoDelay), pool: pool)
        },
        "openai": { config, _, http in
            OpenAIProvider(settings: OpenAISettings(config.providers.remote("openai") ?? RemoteProvider(name: "openai"), soraEnabled: config.providers.soraEnabled), client: http)
        },
        "kling": { config, _, http in KlingProvider(settings: KlingSettings(config.providers.remote("kling") ?? RemoteProvider(name: "kling")), client: http) },
        "google": { config, _, http in GoogleProvider(settings: GoogleSettings(config.providers.remote("google") ?? RemoteProvider(name: "google")), client: http) },
        "elevenlabs": { config, _, http in ElevenLabsProvider(settings: ElevenLabsSettings(config.providers.remote("elevenlabs") ?? RemoteProvider(name: "elevenlabs")), client: http) },
    ]

    /// The provider names this build can run.
    public static var available: [String] { factories.keys.sorted() }

    /// One line per enabled provider this build cannot run, naming its `enabled` key; empty when
    /// every enabled provider has an adapter.
    public static func problems(in config: ReelConfig) -> [String] {
        problems(in: config, factories: factories)
    }

    /// `problems(in:)` against a given set of adapters (tests: a build without one).
    static func problems(in config: ReelConfig, factories: [String: Factory]) -> [String] {
        let available = factories.keys.sorted().joined(separator: ", ")
        return config.providers.enabledNames.filter { factories[$0] == nil }.map {
            "providers.\($0).enabled: provider \"\($0)\" is not available in this build (available: \(available))"
        }
    }

    /// The enabled providers, built; throws when one has no adapter in this build.
    static func registry(
        config: ReelConfig, pool: BlockingPool, http: HTTPClient, factories: [String: Factory] = factories
    ) throws(ProviderCatalogError) -> ProviderRegistry {
        let problems = problems(in: config, factories: factories)
        guard problems.isEmpty else { throw ProviderCatalogError(problems: problems) }
        var providers: [String: any Provider] = [:]
        for name in config.providers.enabledNames {
            providers[name] = factories[name]?(config, pool, http)
        }
        return ProviderRegistry(providers: providers, defaultName: config.providers.defaultProvider, routes: routes(config))
    }

    /// The built-in order per kind with the config's `[routing]` over it; OpenAI makes no video
    /// unless `providers.openai.sora_enabled` (the Sora API is being shut down).
    static func routes(_ config: ReelConfig) -> [JobKind: [String]] {
        var routes = Router.defaultRoutes.merging(config.routing) { _, configured in configured }
        if !config.providers.soraEnabled {
            routes[.video]?.removeAll { $0 == "openai" }
        }
        return routes
    }
}

/// Enabled providers that this build has no adapter for.
public struct ProviderCatalogError: Error, CustomStringConvertible {
    public var problems: [String]
    public var description: String { problems.joined(separator: "; ") }
}
