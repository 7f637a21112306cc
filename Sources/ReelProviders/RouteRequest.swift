import ReelCore

/// What a job asks of the provider that makes it, as far as routing cares.
public struct RouteRequest: Sendable, Hashable {
    public var kind: JobKind
    /// `args.provider`: the job's own choice, which wins over the routing table.
    public var provider: String?
    /// A video that must end on a given frame: only models that take one may make it.
    public var needsEndFrame: Bool
    /// A video with sound made by the model itself.
    public var needsNativeAudio: Bool

    public init(kind: JobKind, provider: String? = nil, needsEndFrame: Bool = false, needsNativeAudio: Bool = false) {
        self.kind = kind
        self.provider = provider
        self.needsEndFrame = needsEndFrame
        self.needsNativeAudio = needsNativeAudio
    }
}
