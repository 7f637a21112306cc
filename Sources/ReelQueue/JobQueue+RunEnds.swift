extension JobQueue {
    /// The end of every statement that ends a run (complete, fail, snooze, cancel, release,
    /// rescue, hand-back): given `run_ends (run_user, run_class, run_provider, n)`, the runs it
    /// ended per lane and provider, it counts them in `reeld.lane_ends` and
    /// `reeld.provider_ends`, which the claim folds into the running counts (see
    /// docs/fair-share.md). A statement writes `), \(countRunEndsSQL)` after its `run_ends`.
    static let countRunEndsSQL = """
        lanes_ended as (
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
}
