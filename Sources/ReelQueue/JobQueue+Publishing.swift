extension JobQueue {
    /// What every statement that changes jobs returns for `reeld.publish()`, with the table as `j`.
    static let changeColumns = "j.id, j.kind, j.project_id, j.state, j.progress, j.run_at"

    /// What statements that may end a job's reservation return for `reeld.settle_credits()`.
    static let creditColumns = "j.user_id, j.credits_reserved, j.credits_used"

    /// How a statement settles the credits its jobs reserved at submit, in the same statement.
    enum Settlement {
        /// Completed jobs: capture what the work cost (`credits_used`, else the reserve), at
        /// most the reserve; release the rest.
        case capture
        /// Jobs the statement failed or cancelled: release their reserve.
        case releaseWhenEnded
    }

    /// Wraps an `update public.jobs j … returning \(changeColumns), …` so that the same statement
    /// publishes what it changed: NOTIFY `reeld_events` for the studio, and `reeld_jobs` when work
    /// became claimable (see `Migrations/0003_jobs.sql`). `after` holds CTEs the update reads
    /// (`name as (…)`). With `settling`, the update also returns `creditColumns` and the
    /// statement settles its jobs' credits. The result is the update's returned rows.
    ///
    /// The changed rows go to `reeld.publish()` as one array, in the statement that changed them:
    /// cheaper than a trigger's transition table, and in the same transaction by construction.
    static func publishing(_ update: String, after ctes: String? = nil, settling: Settlement? = nil) -> String {
        let settled: String
        switch settling {
        case nil:
            settled = ""
        case .capture?:
            settled = """
            , settled as (
                -- The function is called only when a job held credits, so system jobs pay nothing.
                select reeld.settle_credits(m.moves) as n
                from (select array_agg((c.id, c.user_id, c.credits_reserved, coalesce(c.credits_used, c.credits_reserved))::reeld.credit_settlement) as moves
                      from changed c where c.credits_reserved > 0) m
                where m.moves is not null
            )
            """
        case .releaseWhenEnded?:
            settled = """
            , settled as (
                select reeld.settle_credits(m.moves) as n
                from (select array_agg((c.id, c.user_id, c.credits_reserved, null)::reeld.credit_settlement) as moves
                      from changed c where c.credits_reserved > 0 and c.state in ('failed', 'cancelled')) m
                where m.moves is not null
            )
            """
        }
        return """
        with \(ctes.map { $0 + ",\n" } ?? "")changed as (
        \(update)
        ), published as (
            select reeld.publish(array_agg((c.id, c.kind, c.project_id, c.state, c.progress, c.run_at)::reeld.job_change))
            from changed c
        )\(settled)
        select changed.* from changed, published\(settling == nil ? "" : ", (select count(*) from settled) settled")
        """
    }
}
