/// A sound placed at a film time: a voiceover line or a sound effect.
public struct AudioClip: Sendable, Hashable, Codable {
    public var id: String
    public var asset: String
    /// Film time, in seconds, where the sound starts.
    public var at: Double
    /// The span of the asset to play; `out` nil plays to the asset's end.
    public var inPoint: Double
    public var outPoint: Double?
    /// Linear gain: 1 unchanged, 0.5 about −6 dB.
    public var volume: Double

    public init(id: String, asset: String, at: Double, in inPoint: Double = 0, out outPoint: Double? = nil, volume: Double = 1) {
        self.id = id
        self.asset = asset
        self.at = at
        self.inPoint = inPoint
        self.outPoint = outPoint
        self.volume = volume
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, asset, at, inPoint = "in", outPoint = "out", volume
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        asset = try c.decode(String.self, forKey: .asset)
        at = try c.decode(Double.self, forKey: .at)
        inPoint = try c.decodeIfPresent(Double.self, forKey: .inPoint) ?? 0
        outPoint = try c.decodeIfPresent(Double.self, forKey: .outPoint)
        volume = try c.decodeIfPresent(Double.self, forKey: .volume) ?? 1
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(asset, forKey: .asset)
        try c.encode(at, forKey: .at)
        try c.encode(inPoint, forKey: .inPoint)
        try c.encodeIfPresent(outPoint, forKey: .outPoint)
        try c.encode(volume, forKey: .volume)
    }
}
