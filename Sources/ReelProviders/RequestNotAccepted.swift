import ReelCore

/// Thrown by an adapter when the provider certainly did not accept a create call (connection
/// refused, DNS failure, a 5xx before the body was taken: ReelHTTP's `certainlyNotAccepted`).
///
/// The engine then knows nothing was started, so the next attempt may call again whatever the
/// provider's ``RecoveryRule``; any other error leaves the generation `submitting`.
public struct RequestNotAccepted: Error, Sendable, CustomStringConvertible {
    /// How the job should fail or retry.
    public var error: JobError

    public init(_ error: JobError) {
        self.error = error
    }

    public var description: String { "not accepted: \(error)" }
}
