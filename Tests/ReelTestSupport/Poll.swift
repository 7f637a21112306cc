/// Waiting with a deadline: every wait in a process test ends, with a message saying what
/// did not happen.
public enum Poll {
    /// A condition that did not hold in time.
    public struct TimedOut: Error, CustomStringConvertible {
        public var description: String
    }

    /// Checks `condition` every `interval` until it holds.
    /// - Throws: `TimedOut` with `what` (and `context()`, e.g. a process's log) after `timeout`.
    public static func until(
        _ what: @autoclosure () -> String, timeout: Duration, interval: Duration = .milliseconds(50),
        context: () -> String = { "" }, _ condition: () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            if try await condition() { return }
            guard ContinuousClock.now < deadline else {
                let extra = context()
                throw TimedOut(description: "timed out after \(timeout) waiting for \(what())" + (extra.isEmpty ? "" : "\n" + extra))
            }
            try await Task.sleep(for: interval)
        }
    }
}
