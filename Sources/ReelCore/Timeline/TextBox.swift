/// The filled box behind an overlay's text.
public struct TextBox: Sendable, Hashable, Codable {
    /// `#rrggbb` or `#rrggbbaa` (the alpha makes it see-through).
    public var color: String
    /// Pixels between the text and the box's edge.
    public var padding: Int

    public init(color: String = "#00000099", padding: Int = 12) {
        self.color = color
        self.padding = padding
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case color, padding
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        color = try c.decodeIfPresent(String.self, forKey: .color) ?? "#00000099"
        padding = try c.decodeIfPresent(Int.self, forKey: .padding) ?? 12
    }
}
