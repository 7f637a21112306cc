import ReelProviders

/// The enabled providers by name, and the one used when a job names none.
struct ProviderRegistry: Sendable {
    var providers: [String: any Provider]
    var defaultName: String

    func provider(named name: String?) throws -> any Provider {
        let name = name ?? defaultName
        guard let provider = providers[name] else {
            throw ReelCore.JobError.permanent("provider \(name) is not enabled on this node (enabled: \(providers.keys.sorted().joined(separator: ", ")))")
        }
        return provider
    }
}

import ReelCore
