import ReelCore

/// What a finished generation produced.
public struct GenerationResult: Sendable {
    /// Text output; for structured output, the parsed JSON.
    public var json: JSONValue?
    /// Files written under the context's work directory.
    public var files: [GeneratedFile]
    /// What was consumed, for the usage log and credits.
    public var usage: Usage
    /// The model that actually ran.
    public var model: String
    /// Anything the adapter wants to say honestly about the output (e.g. "template, not a model").
    public var notes: [String]

    public init(json: JSONValue? = nil, files: [GeneratedFile] = [], usage: Usage, model: String, notes: [String] = []) {
        self.json = json
        self.files = files
        self.usage = usage
        self.model = model
        self.notes = notes
    }
}
