import ReelCore
import ReelDB

extension JobQueue {
    /// Hands a running job back to the queue on another provider, due at once on any node,
    /// without spending the attempt: its provider is chosen by the router at its first run, or
    /// it falls back because its provider certainly did not take the call. The job's running
    /// count ends on the provider it was claimed on in the same statement, so that provider's
    /// room is free again and the next claim counts the job against `provider`'s limits and
    /// fair share. `reason` goes into the job's error history (class `fallback`); `state` comes
    /// back as the next attempt's snooze state. A job whose cancel was requested ends cancelled
    /// instead (its reserve released). Returns the new state, or nil if the attempt no longer
    /// held the lease.
    @discardableResult
    public func handBack(_ lease: JobLease, provider: String, reason: String?, state: JSONValue?) async throws -> JobState? {
        let rows = try await database.query(Self.handBackSQL, [lease.token, lease.job, provider, reason, state ?? .null])
        return try rows.first.map { JobState(rawValue: try $0.string("state"))! }
    }

    /// $1 lease token, $2 job, $3 the new provider, $4 the reason (null: none recorded), $5 the
    /// snooze state. By primary key with the lease guard, as `releaseSQL`, whose lock order it
    /// keeps (the job's lane before the job). The ended run is counted on the provider the job
    /// was claimed on (`target.provider`, read before the update; RETURNING shows the new one).
    static let handBackSQL = """
        with target as materialized (
            select j.provider, j.user_id, j.job_class from public.jobs j where j.id = $2::uuid and j.lease_token = $1::uuid
        ), lanes_locked as materialized (
            select 1 from reeld.lanes l, target t
            where t.user_id is not null and l.user_id = t.user_id and l.job_class = t.job_class
            for update of l
        ), changed as (
            update public.jobs j
            set state = case when cancel_requested then 'cancelled' else 'available' end::public.job_state,
                attempt = greatest(attempt - 1, 0),
                finished_at = case when cancel_requested then now() end,
                provider = $3::text,
                snooze_state = $5::jsonb,
                errors = case when $4::text is null then errors
                              else errors || jsonb_build_array(jsonb_build_object(
                                  'attempt', attempt, 'at', now(), 'class', 'fallback', 'error', $4::text,
                                  'detail', jsonb_build_object('from', j.provider, 'to', $3::text))) end,
                run_at = now(), lease_owner = null, lease_token = null, lease_expires_at = null
            where j.id = $2::uuid and j.lease_token = $1::uuid
              and (select count(*) from lanes_locked) >= 0
            returning j.id, j.kind, j.project_id, j.state, j.progress, j.run_at,
                      j.user_id, j.credits_reserved, j.credits_used,
                      j.user_id as run_user, j.job_class as run_class
        ), published as (
            select reeld.publish(array_agg((c.id, c.kind, c.project_id, c.state, c.progress, c.run_at)::reeld.job_change))
            from changed c
        ), settled as (
            select reeld.settle_credits(m.moves) as n
            from (select array_agg((c.id, c.user_id, c.credits_reserved, null)::reeld.credit_settlement) as moves
                  from changed c where c.credits_reserved > 0 and c.state = 'cancelled') m
            where m.moves is not null
        ), run_ends as materialized (
            -- Only users' jobs are counted; system jobs are unlimited (the plain claim).
            select c.run_user, c.run_class, t.provider as run_provider, count(*)::int as n
            from changed c, target t where c.run_user is not null
            group by 1, 2, 3
        ), \(countRunEndsSQL)
        select changed.* from changed, published, (select count(*) from settled) settled
        """
}
