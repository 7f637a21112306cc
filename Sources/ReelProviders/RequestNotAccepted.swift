import ReelCore

/// Thrown by an adapter when the provider certainly did not accept a create call (connection
/// refused, DNS failure, a 5xx before the body was taken: ReelHTTP's `certainlyNotAccepted`).
///
/// The engine then knows nothing was started, so the next attempt may call again whatever the
/// provider's ``RecoveryRule``, and a routed job may move to the next provider of its route; any
/// other error leaves the generation `submitting`. The same as throwing a `JobError` whose
/// `certainlyNotAccepted` is set, which adapters that classify into `JobError` do.
public struct RequestNotAccepted: Error, Sendable, CustomStringConvertible {
    /// How the job should fail or retry.
    public var error: JobError

    public init(_ error: JobError) {
        self.error = error
        self.error.certainlyNotAccepted = true
    }

    public var description: String { "not accepted: \(error)" }
}
