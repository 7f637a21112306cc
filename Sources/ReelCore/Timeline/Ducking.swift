/// How far and how fast the music drops while the voice speaks.
///
/// The voice counts as speaking where its level over 20 ms windows is above −45 dBFS, with
/// gaps shorter than `release` bridged so the music does not pump between words.
public struct Ducking: Sendable, Hashable, Codable {
    /// How far the music drops, in dB (12 means to a quarter of its amplitude).
    public var depthDB: Double
    /// Seconds to fall when the voice starts, and to recover after it stops.
    public var attack: Double
    public var release: Double

    public init(depthDB: Double = 12, attack: Double = 0.2, release: Double = 0.5) {
        self.depthDB = depthDB
        self.attack = attack
        self.release = release
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case depthDB = "depth_db", attack, release
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        depthDB = try c.decodeIfPresent(Double.self, forKey: .depthDB) ?? 12
        attack = try c.decodeIfPresent(Double.self, forKey: .attack) ?? 0.2
        release = try c.decodeIfPresent(Double.self, forKey: .release) ?? 0.5
    }
}
