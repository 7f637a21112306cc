import ReelCore

/// The enabled providers by name, and the one used when a job names none.
public struct ProviderRegistry: Sendable {
    public var providers: [String: any Provider]
    public var defaultName: String

    public init(providers: [String: any Provider], defaultName: String) {
        self.providers = providers
        self.defaultName = defaultName
    }

    public func provider(named name: String?) throws -> any Provider {
        let name = name ?? defaultName
        guard let provider = providers[name] else {
            throw ReelCore.JobError.permanent("provider \(name) is not enabled on this node (enabled: \(providers.keys.sorted().joined(separator: ", ")))")
        }
        return provider
    }
}
