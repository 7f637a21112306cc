import ReelCore

/// How an attempt ended well.
public enum JobOutcome: Sendable {
    /// Done, with a result kept on the job row.
    case completed(JSONValue)
    /// Waiting for something (a provider, child jobs): run again after `after`, or sooner
    /// when woken; spends no attempt. `state` comes back as `ClaimedJob.snoozeState`.
    case snooze(after: Duration, state: JSONValue?)
}
