/// What an attempt does with a generation it finds `submitting`: the call went out (or was about
/// to) and no task id was recorded, so nobody knows whether the provider accepted it.
public enum RecoveryRule: String, Sendable, Hashable {
    /// Call again: the call is cheap and synchronous, or free (`local`), so a second one costs
    /// little more than a retry would.
    case resubmit
    /// Ask the provider for the task through ``Provider/lookup(externalID:request:context:)``:
    /// by the client reference sent with the request (Kling's `external_task_id`), or by what
    /// was asked for among the tasks it lists (OpenAI's videos); call again only if it has none.
    /// A lookup that cannot tell (``TaskNotIdentified``) ends as ``outcomeUnknown``.
    case lookUp
    /// Neither is safe: fail the job as "outcome unknown" without charging the user, and leave
    /// the generation id in the log and on the row for the operator to settle with the provider.
    case outcomeUnknown
}
