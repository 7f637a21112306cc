/// What a generation makes.
public enum GenerationKind: String, Sendable, Codable, CaseIterable {
    /// Text, optionally constrained by a JSON Schema (structured output).
    case text
    /// An image from text, optionally with reference images.
    case image
    /// A video from text, or from a start frame and optionally an end frame.
    case video
    case speech
    case soundEffect = "sound_effect"
    case music
}
