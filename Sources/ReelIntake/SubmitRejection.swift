/// A submitter's refusal of a job that will never be accepted as written (unknown user,
/// project not owned by the user, kind disabled…). The spool moves the file to `rejected/`
/// with this message; it is not retried.
public struct SubmitRejection: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    /// The job-file field at fault (`$.project_id`), or `$` for the job as a whole.
    public var path: String

    public init(_ message: String, path: String = "$") {
        self.message = message
        self.path = path
    }

    public var description: String { "job refused by the queue at \(path): \(message)" }
}
