import Foundation
import ReelCore
import ReelDB

/// Read-only queries over `public.jobs` for operators: one job, its children, a filtered list,
/// counts per state. `reelctl show` and `reelctl list` use it; the daemon can too.
///
/// None of these are hot: they run when a person asks, so they read whole rows and are bounded
/// by id or by `limit` rather than tuned to an index.
public struct JobInspector: Sendable {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// What `list` returns: at most `limit` jobs, newest first.
    public struct Filter: Sendable, Hashable {
        public var state: JobState?
        public var kind: JobKind?
        public var limit: Int

        public init(state: JobState? = nil, kind: JobKind? = nil, limit: Int = 50) {
            self.state = state
            self.kind = kind
            self.limit = max(0, limit)
        }
    }

    /// The job with this id, or nil if there is none (never submitted, or pruned).
    /// Served by the primary key.
    public func job(_ id: UUID) async throws -> JobRecord? {
        let rows = try await database.query("select \(Self.columns) from public.jobs where id = $1::uuid", [id])
        return try rows.first.map(Self.record)
    }

    /// The jobs whose `parent_id` is `id` (a workflow run's steps), oldest first.
    /// Served by `jobs_parent_idx`.
    public func children(of id: UUID) async throws -> [JobRecord] {
        let rows = try await database.query(
            "select \(Self.columns) from public.jobs where parent_id = $1::uuid order by created_at, id", [id])
        return try rows.map(Self.record)
    }

    /// Jobs matching `filter`, newest first. No index orders by `created_at`: PostgreSQL sorts
    /// the matching rows and keeps the top `limit`, which is fine for an operator's query.
    public func list(_ filter: Filter = Filter()) async throws -> [JobRecord] {
        let rows = try await database.query(
            """
            select \(Self.columns) from public.jobs
            where ($1::public.job_state is null or state = $1::public.job_state)
              and ($2::text is null or kind = $2::text)
            order by created_at desc, id
            limit $3::int
            """, [filter.state?.rawValue, filter.kind?.rawValue, filter.limit])
        return try rows.map(Self.record)
    }

    /// How many jobs are in each state, optionally of one kind. States with no jobs are absent.
    public func countsByState(kind: JobKind? = nil) async throws -> [JobState: Int] {
        let rows = try await database.query(
            """
            select state::text as state, count(*) as n from public.jobs
            where $1::text is null or kind = $1::text
            group by state
            """, [kind?.rawValue])
        var counts: [JobState: Int] = [:]
        for row in rows {
            let text = try row.string("state")
            guard let state = JobState(rawValue: text) else {
                throw DatabaseError(kind: .decoding, message: "unknown job state \(text) (a newer schema?)")
            }
            counts[state] = try row.int("n")
        }
        return counts
    }

    // Times are selected as epochs so no timestamp text has to be parsed; so is each error's `at`,
    // rewritten inside the array in its original order.
    static let columns = """
        id, kind, state::text as state, user_id, project_id, parent_id, args, result, idempotency_key, priority,
        attempt, max_attempts, extract(epoch from run_at) as run_at, lease_owner,
        extract(epoch from lease_expires_at) as lease_expires_at, cancel_requested, progress,
        (select coalesce(jsonb_agg(
                    e.entry || jsonb_build_object('at', extract(epoch from (e.entry ->> 'at')::timestamptz))
                    order by e.n), '[]'::jsonb)
           from jsonb_array_elements(errors) with ordinality as e(entry, n)) as errors,
        extract(epoch from created_at) as created_at, extract(epoch from attempted_at) as attempted_at,
        extract(epoch from finished_at) as finished_at
        """

    static func record(_ row: PostgresRow) throws -> JobRecord {
        let stateText = try row.string("state")
        guard let state = JobState(rawValue: stateText) else {
            throw DatabaseError(kind: .decoding, message: "unknown job state \(stateText) (a newer schema?)")
        }
        return JobRecord(
            id: try row.uuid("id"), kind: JobKind(try row.string("kind")), state: state,
            userID: try row.optionalUUID("user_id"), projectID: try row.optionalUUID("project_id"),
            parentID: try row.optionalUUID("parent_id"), args: try row.json("args"), result: try row.optionalJSON("result").flatMap(\.unlessNull),
            idempotencyKey: try row.optionalString("idempotency_key"), priority: try row.int("priority"),
            attempt: try row.int("attempt"), maxAttempts: try row.int("max_attempts"), runAt: try row.epochDate("run_at"),
            leaseOwner: try row.optionalString("lease_owner"), leaseExpiresAt: try row.optionalEpochDate("lease_expires_at"),
            cancelRequested: try row.bool("cancel_requested"), progress: try row.double("progress"),
            errors: try attemptErrors(row.json("errors")),
            createdAt: try row.epochDate("created_at"), attemptedAt: try row.optionalEpochDate("attempted_at"),
            finishedAt: try row.optionalEpochDate("finished_at"))
    }

    static func attemptErrors(_ value: JSONValue) throws -> [JobRecord.AttemptError] {
        guard let entries = value.arrayValue else {
            throw DatabaseError(kind: .decoding, message: "column errors: expected a JSON array")
        }
        return entries.map { entry in
            JobRecord.AttemptError(
                attempt: entry["attempt"]?.intValue.map(Int.init) ?? 0,
                at: entry["at"]?.doubleValue.map(Date.init(timeIntervalSince1970:)),
                failureClass: entry["class"]?.stringValue ?? "unknown",
                error: entry["error"]?.stringValue ?? "",
                detail: entry["detail"].flatMap(\.unlessNull))
        }
    }
}

extension JSONValue {
    /// Nil for JSON `null`: an unset `result` or `detail` may be stored as SQL NULL or as jsonb
    /// `null`, and callers should see one "absent". (`.none` is spelled out because JSONValue is
    /// itself `ExpressibleByNilLiteral`, so a bare `nil` here would mean `.null`.)
    fileprivate var unlessNull: JSONValue? {
        if case .null = self { return Optional.none }
        return self
    }
}
