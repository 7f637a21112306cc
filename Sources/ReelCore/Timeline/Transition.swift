/// A transition from one clip into the next: the two overlap by `duration` seconds, so the
/// film is that much shorter than the clips laid end to end.
public struct Transition: Sendable, Hashable, Codable {
    public var type: TransitionType
    public var duration: Double

    public init(type: TransitionType = .fade, duration: Double) {
        self.type = type
        self.duration = duration
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case type, duration
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        type = try c.decodeIfPresent(TransitionType.self, forKey: .type) ?? .fade
        duration = try c.decode(Double.self, forKey: .duration)
    }
}
