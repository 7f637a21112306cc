extension JobQueue {
    /// What every statement that changes jobs returns for `reeld.publish()`, with the table as `j`.
    static let changeColumns = "j.id, j.kind, j.project_id, j.state, j.progress, j.run_at"

    /// What statements that may end a job's reservation return for `reeld.settle_credits()`.
    static let creditColumns = "j.user_id, j.credits_reserved, j.credits_used"

    /// What statements that end running attempts return for counting the ended runs into
    /// `reeld.lane_ends` and `reeld.provider_ends` (Migrations/0006): aliased, so that they can
    /// sit beside `creditColumns`.
    static let runEndColumns = "j.user_id as run_user, j.job_class as run_class, j.provider as run_provider"

    /// How a statement settles the credits its jobs reserved at submit, in the same statement.
    enum Settlement {
        /// Completed jobs: capture what the work cost (`credits_used`, else the reserve), at
        /// most the reserve; release the rest.
        case capture
        /// Jobs the statement failed or cancelled: release their reserve.
        case releaseWhenEnded
    }

    /// Wraps an `update public.jobs j … returning \(changeColumns), …` (the returning list last)
    /// so that the same statement publishes what it changed: NOTIFY `reeld_events` for the
    /// studio, and `reeld_jobs` when work became claimable (see `Migrations/0003_jobs.sql`).
    /// `after` holds CTEs the update reads (`name as (…)`). With `settling`, the statement also
    /// settles its jobs' credits; with `endingRuns` (every row it changes was running and is not
    /// now), it counts the ended runs of users' jobs for the fair claim's limits. The columns
    /// those need (`creditColumns`, `runEndColumns`) are added to the returning list here, so a
    /// caller names only what it reads. The result is the update's rows.
    ///
    /// The changed rows go to `reeld.publish()` as one array, in the statement that changed them:
    /// cheaper than a trigger's transition table, and in the same transaction by construction.
    static func publishing(_ update: String, after ctes: String? = nil, settling: Settlement? = nil, endingRuns: Bool = false) -> String {
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
        // Counted here rather than through reeld.count_run_ends() (0006), which took the ends as
        // an array of composites: building that array and unnesting it twice cost more than the
        // upserts (callgrind, completions of 256 users' jobs from 16 lanes as cached plans: 3.7 M
        // instructions counting through the function, 2.0 M here). One pass over the changed rows
        // groups them; the two upserts read that small set. Rows are locked in key order, lanes
        // before providers, as the function did, so two statements' batches cannot deadlock. The
        // function stays in the schema: nodes of the previous version call it until they stop.
        let ended = !endingRuns ? "" : """
            , run_ends as materialized (
                -- Only users' jobs are counted; system jobs are unlimited (the plain claim).
                select c.run_user, c.run_class, c.run_provider, count(*)::int as n
                from changed c where c.run_user is not null
                group by 1, 2, 3
            ), lanes_ended as (
                insert into reeld.lane_ends as e (user_id, job_class, ended)
                select q.run_user, q.run_class, sum(q.n) from run_ends q
                group by 1, 2 order by 1, 2
                on conflict (user_id, job_class) do update set ended = e.ended + excluded.ended
                returning 1
            ), providers_ended as (
                -- After the lanes (the one-time condition runs lanes_ended first): a statement
                -- runs the CTEs nobody reads in an order of its own.
                insert into reeld.provider_ends as e (name, ended)
                select q.run_provider, sum(q.n) from run_ends q
                where q.run_provider is not null and (select count(*) from lanes_ended) >= 0
                group by 1 order by 1
                on conflict (name) do update set ended = e.ended + excluded.ended
            )
            """
        let returning = update + (settling == nil ? "" : ", \(creditColumns)") + (endingRuns ? ", \(runEndColumns)" : "")
        return """
        with \(ctes.map { $0 + ",\n" } ?? "")changed as (
        \(returning)
        ), published as (
            select reeld.publish(array_agg((c.id, c.kind, c.project_id, c.state, c.progress, c.run_at)::reeld.job_change))
            from changed c
        )\(settled)\(ended)
        select changed.* from changed, published\(settling == nil ? "" : ", (select count(*) from settled) settled")
        """
    }
}
