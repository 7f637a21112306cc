import Foundation
import ReelCore
import ReelDB
import ReelTestSupport
import Testing

@testable import ReelQueue

/// Group commits against a real PostgreSQL: finished work survives an outage of any length, and
/// one result the database refuses does not hold back the others.
@Suite struct CompletionCommitterTests {
    let database: Database
    let queue: JobQueue

    init() throws {
        database = try TestDatabase.makePool()
        queue = JobQueue(database: database)
    }

    func committer() -> CompletionCommitter {
        CompletionCommitter(queue: queue, logger: TestDatabase.logger,
                            retry: Backoff(base: .milliseconds(1), cap: .milliseconds(2), jitter: .none))
    }

    func claimed(_ count: Int) async throws -> [ClaimedJob] {
        for _ in 0..<count { _ = try await queue.submit(JobSubmission(kind: .noop)) }
        let jobs = try await queue.claim(owner: "n1", limit: count, lease: .seconds(300))
        #expect(jobs.count == count)
        return jobs
    }

    func state(_ id: UUID) async throws -> String {
        try await database.query("select state::text as state from jobs where id = $1::uuid", [id])[0].string("state")
    }

    /// The database refuses the next completions as a restarting server does (57P03), far more
    /// times than any fixed number of tries; the finished job is kept and completes once it
    /// can. A sequence counts the refusals, since they roll back everything else.
    @Test func finishedWorkIsKeptUntilCommittedHoweverLongTheOutage() async throws {
        let job = try #require(try await claimed(1).first)
        try await database.withConnection { conn in
            try conn.execute(
                """
                create sequence refusals;
                create function refuse_while_away() returns trigger language plpgsql as $$
                begin
                    if nextval('refusals') <= 40 then
                        raise exception 'the database system is starting up' using errcode = '57P03';
                    end if;
                    return new;
                end $$;
                create trigger away before update on jobs for each row when (new.state = 'completed')
                    execute function refuse_while_away();
                """)
        }
        let committer = committer()
        committer.add(job.lease, result: ["ok": true])
        var completed = 0
        await committer.flush { _, n in completed += n }
        #expect(completed == 1)
        #expect(try await state(job.id) == "completed")
    }

    /// jsonb refuses U+0000: that one job fails for good with the reason, and the rest of its
    /// batch completes.
    @Test func aResultTheDatabaseRefusesFailsOnlyItsJobWithTheReason() async throws {
        let jobs = try await claimed(3)
        let committer = committer()
        committer.add(jobs[0].lease, result: ["text": "fine"])
        committer.add(jobs[1].lease, result: ["text": .string("a nul \u{0000} inside")])
        committer.add(jobs[2].lease, result: ["text": "fine too"])
        var completed = 0
        await committer.flush { _, n in completed += n }
        #expect(completed == 2)
        #expect(try await state(jobs[0].id) == "completed")
        #expect(try await state(jobs[2].id) == "completed")
        #expect(try await state(jobs[1].id) == "failed")
        let errors = try await database.query("select errors from jobs where id = $1::uuid", [jobs[1].id])[0].json("errors")
        #expect(errors.arrayValue?.first?["error"]?.stringValue?.contains("result could not be stored") == true)
        #expect(errors.arrayValue?.first?["class"]?.stringValue == "permanent")
    }
}
