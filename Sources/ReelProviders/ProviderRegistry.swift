import ReelCore

/// The enabled providers by name, the one used when a job names none, and the routing table
/// the workflow uses to choose a provider for each step's jobs.
public struct ProviderRegistry: Sendable {
    public var providers: [String: any Provider]
    public var defaultName: String
    public var router: Router

    public init(providers: [String: any Provider], defaultName: String, routes: [JobKind: [String]] = Router.defaultRoutes) {
        self.providers = providers
        self.defaultName = defaultName
        self.router = Router(routes: routes, enabled: Set(providers.keys))
    }

    public func provider(named name: String?) throws -> any Provider {
        let name = name ?? defaultName
        guard let provider = providers[name] else {
            throw ReelCore.JobError.permanent("provider \(name) is not enabled on this node (enabled: \(providers.keys.sorted().joined(separator: ", ")))")
        }
        return provider
    }
}
