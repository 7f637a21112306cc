/// The music under the film: placed at a film time, played until the film (or the asset) ends,
/// faded in and out, and ducked while the voice speaks.
public struct MusicBed: Sendable, Hashable, Codable {
    public var asset: String
    public var at: Double
    public var inPoint: Double
    /// Nil plays to the asset's end; the film's end cuts it in any case.
    public var outPoint: Double?
    /// Linear gain before ducking.
    public var volume: Double
    /// Seconds of fade at the music's start and before it stops.
    public var fadeIn: Double
    public var fadeOut: Double
    /// Lowering under the voice; nil leaves the music alone.
    public var ducking: Ducking?

    public init(
        asset: String, at: Double = 0, in inPoint: Double = 0, out outPoint: Double? = nil, volume: Double = 1,
        fadeIn: Double = 0, fadeOut: Double = 0, ducking: Ducking? = Ducking()
    ) {
        self.asset = asset
        self.at = at
        self.inPoint = inPoint
        self.outPoint = outPoint
        self.volume = volume
        self.fadeIn = fadeIn
        self.fadeOut = fadeOut
        self.ducking = ducking
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case asset, at, inPoint = "in", outPoint = "out", volume, fadeIn = "fade_in", fadeOut = "fade_out", ducking
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        asset = try c.decode(String.self, forKey: .asset)
        at = try c.decodeIfPresent(Double.self, forKey: .at) ?? 0
        inPoint = try c.decodeIfPresent(Double.self, forKey: .inPoint) ?? 0
        outPoint = try c.decodeIfPresent(Double.self, forKey: .outPoint)
        volume = try c.decodeIfPresent(Double.self, forKey: .volume) ?? 1
        fadeIn = try c.decodeIfPresent(Double.self, forKey: .fadeIn) ?? 0
        fadeOut = try c.decodeIfPresent(Double.self, forKey: .fadeOut) ?? 0
        ducking = try c.decodeIfPresent(Ducking.self, forKey: .ducking)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(asset, forKey: .asset)
        try c.encode(at, forKey: .at)
        try c.encode(inPoint, forKey: .inPoint)
        try c.encodeIfPresent(outPoint, forKey: .outPoint)
        try c.encode(volume, forKey: .volume)
        try c.encode(fadeIn, forKey: .fadeIn)
        try c.encode(fadeOut, forKey: .fadeOut)
        try c.encodeIfPresent(ducking, forKey: .ducking)
    }
}
