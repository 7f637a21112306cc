/// The answer to a heartbeat.
public struct HeartbeatResult: Sendable {
    /// Running attempts whose job an operator or the studio asked to cancel.
    public var cancelRequested: Set<JobLease>
    /// Attempts this node thought it ran but whose lease they no longer hold (rescued after a
    /// stall, perhaps leased again): stop them.
    public var lost: Set<JobLease>
}
