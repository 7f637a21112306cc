/// A small deterministic random generator (SplitMix64): the same seed gives the same media, or
/// the same schedule of a chaos run, on every machine and run, unlike
/// `SystemRandomNumberGenerator` or `Hasher`.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// The seed it started from, for logs that let a run be replayed.
    public let seed: UInt64

    public init(seed: UInt64) {
        self.seed = seed
        state = seed
    }

    /// A generator seeded from text (FNV-1a over its UTF-8), mixed with an optional number.
    public init(text: String, seed: UInt64 = 0) {
        self.init(seed: Self.hash(text) ^ (seed &* 0x9E37_79B9_7F4A_7C15))
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform value in 0..<1.
    public mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }

    /// True with probability `p`.
    public mutating func chance(_ p: Double) -> Bool {
        Double.random(in: 0..<1, using: &self) < p
    }

    /// A duration drawn uniformly from `range` (in seconds).
    public mutating func seconds(_ range: ClosedRange<Double>) -> Duration {
        .milliseconds(Int64(Double.random(in: range, using: &self) * 1000))
    }

    /// FNV-1a, 64-bit: a stable hash of text across processes.
    public static func hash(_ text: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 {
            h ^= UInt64(byte)
            h &*= 0x0000_0100_0000_01B3
        }
        return h
    }
}
