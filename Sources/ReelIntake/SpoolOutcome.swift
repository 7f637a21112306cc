/// What became of one file in the spool's `new/` directory.
public enum SpoolOutcome: Sendable, Hashable {
    /// Submitted and moved to `accepted/storedAs`.
    case accepted(file: String, receipt: SubmitReceipt, storedAs: String)
    /// Moved to `rejected/storedAs`, with `rejected/storedAs.error.json` listing the problems.
    case rejected(file: String, problems: [IntakeProblem], storedAs: String)
    /// Left in `new/` to be tried again on the next scan (the queue or the file system failed).
    case deferred(file: String, reason: String)
    /// Not a job file name (hidden, not UTF-8, contains `/`…); left untouched.
    case ignored(file: String, reason: String)
    /// Gone before it could be read (another process took it, or it was an event for an old name).
    case vanished(file: String)

    /// The file's name in `new/`.
    public var file: String {
        switch self {
        case .accepted(let f, _, _), .rejected(let f, _, _), .deferred(let f, _), .ignored(let f, _), .vanished(let f): f
        }
    }
}
