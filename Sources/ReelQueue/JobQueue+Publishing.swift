extension JobQueue {
    /// What every statement that changes jobs returns for `reeld.publish()`, with the table as `j`.
    static let changeColumns = "j.id, j.kind, j.project_id, j.state, j.progress, j.run_at"

    /// Wraps an `update public.jobs j … returning \(changeColumns), …` so that the same statement
    /// publishes what it changed: NOTIFY `reeld_events` for the studio, and `reeld_jobs` when work
    /// became claimable (see `Migrations/0003_jobs.sql`). `after` holds CTEs the update reads
    /// (`name as (…)`). The result is the update's returned rows.
    ///
    /// The changed rows go to `reeld.publish()` as one array, in the statement that changed them:
    /// cheaper than a trigger's transition table, and in the same transaction by construction.
    static func publishing(_ update: String, after ctes: String? = nil) -> String {
        """
        with \(ctes.map { $0 + ",\n" } ?? "")changed as (
        \(update)
        ), published as (
            select reeld.publish(array_agg((c.id, c.kind, c.project_id, c.state, c.progress, c.run_at)::reeld.job_change))
            from changed c
        )
        select changed.* from changed, published
        """
    }
}
