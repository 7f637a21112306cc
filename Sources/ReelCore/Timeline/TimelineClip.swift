/// One clip on the video track: a span of an asset, and how it hands over to the next clip.
public struct TimelineClip: Sendable, Hashable, Codable {
    /// Unique within the timeline; editing operations and error messages use it.
    public var id: String
    /// The asset's id as the timeline's owner knows it (a UUID in reeld's database, a name in tests).
    public var asset: String
    /// Start and end within the asset, in seconds; the clip plays `out - in` seconds.
    public var inPoint: Double
    public var outPoint: Double
    /// The transition into the next clip; nil is a hard cut. The last clip has none.
    public var transition: Transition?
    /// Gain on the clip's own sound (1 unchanged, 0 muted). A clip without sound contributes none.
    public var volume: Double

    public init(id: String, asset: String, in inPoint: Double, out outPoint: Double, transition: Transition? = nil, volume: Double = 1) {
        self.id = id
        self.asset = asset
        self.inPoint = inPoint
        self.outPoint = outPoint
        self.transition = transition
        self.volume = volume
    }

    /// Seconds the clip lasts on the track (before overlaps with its neighbours).
    public var duration: Double { outPoint - inPoint }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, asset, inPoint = "in", outPoint = "out", transition, volume
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        asset = try c.decode(String.self, forKey: .asset)
        inPoint = try c.decodeIfPresent(Double.self, forKey: .inPoint) ?? 0
        outPoint = try c.decode(Double.self, forKey: .outPoint)
        transition = try c.decodeIfPresent(Transition.self, forKey: .transition)
        volume = try c.decodeIfPresent(Double.self, forKey: .volume) ?? 1
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(asset, forKey: .asset)
        try c.encode(inPoint, forKey: .inPoint)
        try c.encode(outPoint, forKey: .outPoint)
        try c.encodeIfPresent(transition, forKey: .transition)
        try c.encode(volume, forKey: .volume)
    }
}
