/// A provider-side task: what the engine stores while the job waits.
public struct ProviderTask: Sendable, Hashable, Codable {
    public var provider: String
    public var id: String

    public init(provider: String, id: String) {
        self.provider = provider
        self.id = id
    }
}
