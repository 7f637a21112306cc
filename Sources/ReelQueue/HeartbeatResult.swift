import Foundation

/// The answer to a heartbeat.
public struct HeartbeatResult: Sendable {
    /// Running jobs an operator or the studio asked to cancel.
    public var cancelRequested: Set<UUID>
    /// Jobs this node thought it ran but no longer holds (rescued after a stall): stop them.
    public var lost: Set<UUID>
}
