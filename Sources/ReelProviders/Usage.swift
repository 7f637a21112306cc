/// Units consumed by a generation: seconds of video or audio, characters of speech, images, tokens.
public struct Usage: Sendable, Hashable, Codable {
    public var unit: String
    public var amount: Double

    public init(unit: String, amount: Double) {
        self.unit = unit
        self.amount = amount
    }
}
