/// Text drawn over the picture between two film times, fading in and out.
public struct TextOverlay: Sendable, Hashable, Codable {
    public static let defaultFont = "DejaVu Sans"

    public var id: String
    public var text: String
    /// A font family the renderer knows (the DejaVu faces: "DejaVu Sans", "DejaVu Sans Bold",
    /// "DejaVu Serif", "DejaVu Serif Bold", "DejaVu Sans Mono", "DejaVu Sans Mono Bold").
    public var font: String
    /// Font size in output pixels: the largest the text is drawn at.
    public var size: Int
    /// `#rrggbb` or `#rrggbbaa`.
    public var color: String
    /// A filled box behind the text; nil draws the text alone.
    public var box: TextBox?
    /// Where the centre of the text goes, as fractions of the frame's width and height
    /// (0.5, 0.5 is the middle; y 0.85 is a caption). The renderer fits the text into the frame
    /// less a margin (wrapping it, and drawing it smaller when wrapping is not enough) and keeps
    /// it and its box inside that margin.
    public var x: Double
    public var y: Double
    /// Film times in seconds: shown from `start` until `end`.
    public var start: Double
    public var end: Double
    /// Seconds of fade in after `start` and fade out before `end`.
    public var fade: Double

    public init(
        id: String, text: String, font: String = TextOverlay.defaultFont, size: Int = 48, color: String = "#ffffff",
        box: TextBox? = nil, x: Double = 0.5, y: Double = 0.5, start: Double, end: Double, fade: Double = 0
    ) {
        self.id = id
        self.text = text
        self.font = font
        self.size = size
        self.color = color
        self.box = box
        self.x = x
        self.y = y
        self.start = start
        self.end = end
        self.fade = fade
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, text, font, size, color, box, x, y, start, end, fade
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        text = try c.decode(String.self, forKey: .text)
        font = try c.decodeIfPresent(String.self, forKey: .font) ?? Self.defaultFont
        size = try c.decodeIfPresent(Int.self, forKey: .size) ?? 48
        color = try c.decodeIfPresent(String.self, forKey: .color) ?? "#ffffff"
        box = try c.decodeIfPresent(TextBox.self, forKey: .box)
        x = try c.decodeIfPresent(Double.self, forKey: .x) ?? 0.5
        y = try c.decodeIfPresent(Double.self, forKey: .y) ?? 0.5
        start = try c.decode(Double.self, forKey: .start)
        end = try c.decode(Double.self, forKey: .end)
        fade = try c.decodeIfPresent(Double.self, forKey: .fade) ?? 0
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(text, forKey: .text)
        try c.encode(font, forKey: .font)
        try c.encode(size, forKey: .size)
        try c.encode(color, forKey: .color)
        try c.encodeIfPresent(box, forKey: .box)
        try c.encode(x, forKey: .x)
        try c.encode(y, forKey: .y)
        try c.encode(start, forKey: .start)
        try c.encode(end, forKey: .end)
        try c.encode(fade, forKey: .fade)
    }
}
