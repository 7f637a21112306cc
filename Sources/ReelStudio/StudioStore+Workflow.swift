import Foundation
import ReelCore
import ReelDB

extension StudioStore {
    /// A workflow step's row.
    struct StepRow: Sendable {
        var step: WorkflowStep
        var state: WorkflowStepState
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
        try await database.query("select step, state from public.workflow_steps where project_id = $1::uuid order by step", [project]).map {
            StepRow(step: WorkflowStep(rawValue: try $0.string("step"))!, state: WorkflowStepState(rawValue: try $0.string("state"))!)
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

    /// The children a workflow run submitted for one step (their idempotency keys carry the step).
    func children(of parent: UUID, step: WorkflowStep) async throws -> ChildSummary {
        let rows = try await database.query(
            """
            select state, result, errors -> -1 ->> 'error' as last_error
            from public.jobs where parent_id = $1::uuid and idempotency_key like $2
            order by idempotency_key
            """, [parent, "wf:\(parent.lowercasedText):\(step.rawValue):%"])
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
