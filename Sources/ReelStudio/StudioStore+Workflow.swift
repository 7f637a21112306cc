import Foundation
import ReelCore
import ReelDB

extension StudioStore {
    /// A workflow step's row.
    struct StepRow: Sendable {
        var step: WorkflowStep
        var state: WorkflowStepState
        /// How many times the step was marked stale: part of its children's idempotency keys.
        var regeneration = 0
    }

    /// Counts of a step's child jobs by state, and the first error among them.
    struct ChildSummary: Sendable {
        var total = 0
        var completed = 0
        var ended = 0
        var firstError: String?
        var results: [JSONValue] = []
    }

    /// Creates the eight step rows of a project (pending) if they are not there.
    func ensureSteps(project: UUID, user: UUID) async throws {
        try await database.query(
            """
            insert into public.workflow_steps (user_id, project_id, step)
            select $2::uuid, $1::uuid, s from unnest(enum_range(null::public.workflow_step)) as s
            on conflict (project_id, step) do nothing
            """, [project, user])
    }

    func steps(project: UUID) async throws -> [StepRow] {
        try await database.query(
            "select step, state, regeneration from public.workflow_steps where project_id = $1::uuid order by step", [project]
        ).map {
            StepRow(step: WorkflowStep(rawValue: try $0.string("step"))!, state: WorkflowStepState(rawValue: try $0.string("state"))!,
                    regeneration: try $0.int("regeneration"))
        }
    }

    func setStep(project: UUID, step: WorkflowStep, state: WorkflowStepState, jobCount: Int? = nil, jobsDone: Int? = nil,
                 error: String? = nil) async throws {
        try await database.query(
            """
            update public.workflow_steps
            set state = $3::public.workflow_step_state,
                job_count = coalesce($4::int, job_count), jobs_done = coalesce($5::int, jobs_done), error = $6,
                started_at = case when $3 = 'running' then coalesce(started_at, now()) else started_at end,
                finished_at = case when $3 in ('completed', 'failed') then now() end,
                updated_at = now()
            where project_id = $1::uuid and step = $2::public.workflow_step
            """, [project, step.rawValue, state.rawValue, jobCount, jobsDone, error])
    }

    /// The idempotency key of a workflow run's `index`th child for a step: the run, the step and
    /// its regeneration, so that a retried run finds the children it submitted and a stale step
    /// run again gets new ones. A step never regenerated keeps the form `wf:RUN:STEP:INDEX`
    /// that runs submitted before regenerations were counted.
    static func childKey(parent: UUID, step: StepRow, index: Int) -> String {
        "\(childKeyPrefix(parent: parent, step: step))\(index)"
    }

    /// What every key of one step's children (`childKey`) starts with, and no other's.
    static func childKeyPrefix(parent: UUID, step: StepRow) -> String {
        let label = step.regeneration == 0 ? step.step.rawValue : "\(step.step.rawValue)#\(step.regeneration)"
        return "wf:\(parent.lowercasedText):\(label):"
    }

    /// The children a workflow run submitted for one step as it is now (their idempotency keys
    /// carry the step and its regeneration); children of the step's earlier regenerations are
    /// not counted. Served by jobs_parent_idx.
    func children(of parent: UUID, step: StepRow) async throws -> ChildSummary {
        let rows = try await database.query(
            """
            select state, result, errors -> -1 ->> 'error' as last_error
            from public.jobs where parent_id = $1::uuid and starts_with(idempotency_key, $2)
            order by idempotency_key
            """, [parent, Self.childKeyPrefix(parent: parent, step: step)])
        var summary = ChildSummary()
        for row in rows {
            summary.total += 1
            let state = JobState(rawValue: try row.string("state"))!
            if state == .completed {
                summary.completed += 1
                summary.results.append(try row.optionalJSON("result") ?? .null)
            }
            if state.isFinal { summary.ended += 1 }
            if state == .failed || state == .cancelled, summary.firstError == nil {
                summary.firstError = try row.optionalString("last_error") ?? "child job \(state.rawValue)"
            }
        }
        return summary
    }
}
