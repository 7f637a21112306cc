/// One reason a spool file was refused: where, what was expected, what was found.
/// These are the `errors` of a `rejected/NAME.error.json`.
public struct IntakeProblem: Sendable, Hashable, Codable, CustomStringConvertible {
    /// A JSON path into the job file (`$.args.brief`); `$` for the file or document as a whole.
    public var path: String
    public var expected: String
    public var got: String
    /// One sentence for a person: the three fields above, together.
    public var message: String

    public init(path: String, expected: String, got: String, message: String? = nil) {
        self.path = path
        self.expected = expected
        self.got = got
        self.message = message ?? "\(path): expected \(expected), got \(got)"
    }

    public var description: String { message }
}
