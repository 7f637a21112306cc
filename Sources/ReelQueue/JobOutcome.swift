import ReelCore

/// How an attempt ended well.
public enum JobOutcome: Sendable {
    /// Done, with a result kept on the job row.
    case completed(JSONValue)
    /// Waiting for something (a provider, child jobs): run again after `after`, or sooner
    /// when woken; spends no attempt. `state` comes back as `ClaimedJob.snoozeState`.
    case snooze(after: Duration, state: JSONValue?)
    /// Not run here: back to the queue at once, on `provider`, without spending an attempt
    /// (the router chose a provider other than the one the job was queued on, or the job falls
    /// back after its provider did not take the call). The job's running count moves off the
    /// old provider in the same statement, so per-provider limits and fair share count the new
    /// one from the next claim. `reason`, when given, goes into the job's error history.
    /// `state` comes back as `ClaimedJob.snoozeState`.
    case handBack(provider: String, reason: String?, state: JSONValue?)
}
