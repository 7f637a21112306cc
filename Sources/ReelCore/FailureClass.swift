/// How the engine treats a failed attempt.
public enum FailureClass: String, Sendable, Codable {
    /// Worth another attempt after a backoff (timeouts, 5xx, lost connections).
    case transient
    /// Will never succeed as submitted (validation, auth, content policy, billing): fail at once.
    case permanent
    /// The provider asked us to slow down; goes back without spending an attempt.
    case throttled
}

/// An error a job handler throws to tell the engine how to treat the failure.
public struct JobError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var failureClass: FailureClass
    /// A provider's `Retry-After`, honoured over the computed backoff.
    public var retryAfter: Duration?
    /// Machine-readable detail kept in the job's error history (provider code, field path…).
    public var detail: JSONValue?
    /// The call that failed certainly never reached the provider (no connection, refused before
    /// sending, a gateway's 5xx on a create): nothing was started or paid for there, so the job
    /// may move to another provider (see `Router.fallback` in ReelProviders).
    public var certainlyNotAccepted = false

    public init(_ message: String, class failureClass: FailureClass = .transient, retryAfter: Duration? = nil, detail: JSONValue? = nil) {
        self.message = message
        self.failureClass = failureClass
        self.retryAfter = retryAfter
        self.detail = detail
    }

    public static func permanent(_ message: String, detail: JSONValue? = nil) -> JobError {
        JobError(message, class: .permanent, detail: detail)
    }

    public var description: String { "\(failureClass.rawValue): \(message)" }
}
