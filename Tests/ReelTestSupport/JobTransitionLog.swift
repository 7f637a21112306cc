import Foundation
import ReelDB

/// Every change of a job's state, written by a trigger into `chaos.transitions` in the same
/// transaction as the change: what a test counts to prove that each job ended exactly once, and
/// when (by the database's clock) a node claimed or completed work, whichever process did it.
///
/// Installed by a test into its own database only; production has no such trigger. A NOTIFY
/// could be lost while a listener reconnects (a database restart); a row written with the
/// change cannot.
public enum JobTransitionLog {
    /// Creates the table and the trigger. Idempotent.
    public static func install(on database: Database) async throws {
        try await database.withConnection { conn in
            try conn.execute(installSQL)
        }
    }

    /// `clock_timestamp()`, not `now()`: a row's time is when the change was made, not when its
    /// transaction began (a claim's transaction begins before the database restarts, say).
    static let installSQL = """
        create schema if not exists chaos;
        create table if not exists chaos.transitions (
            seq bigserial primary key,
            job_id uuid not null,
            from_state public.job_state not null,
            to_state public.job_state not null,
            old_owner text,
            new_owner text,
            -- The error the change appended to the job's history, if any (a rescue's "lease expired").
            error text,
            at timestamptz not null default clock_timestamp()
        );
        create index if not exists transitions_job_idx on chaos.transitions (job_id);
        create or replace function chaos.log_transition() returns trigger language plpgsql as $$
        begin
            insert into chaos.transitions (job_id, from_state, to_state, old_owner, new_owner, error)
            values (new.id, old.state, new.state, old.lease_owner, new.lease_owner,
                    case when jsonb_array_length(new.errors) > jsonb_array_length(old.errors)
                         then new.errors -> -1 ->> 'error' end);
            return null;
        end
        $$;
        drop trigger if exists chaos_transitions on public.jobs;
        create trigger chaos_transitions after update on public.jobs
            for each row when (old.state is distinct from new.state) execute function chaos.log_transition();
        """
}
