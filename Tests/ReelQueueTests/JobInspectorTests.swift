import Foundation
import ReelCore
import ReelDB
import ReelQueue
import ReelTestSupport
import Testing

/// The operator's read queries against a real PostgreSQL.
@Suite struct JobInspectorTests {
    let database: Database
    let clock = ManualClock(Date(timeIntervalSince1970: 1_900_000_000))
    let queue: JobQueue
    let inspector: JobInspector

    init() throws {
        database = try TestDatabase.makePool()
        queue = JobQueue(database: database, clock: clock)
        inspector = JobInspector(database: database)
    }

    func submit(_ kind: JobKind = .noop, key: String? = nil, parent: UUID? = nil, maxAttempts: Int? = nil) async throws -> UUID {
        try await queue.submit(JobSubmission(
            kind: kind, idempotencyKey: key, runAt: clock.now(), maxAttempts: maxAttempts, parentID: parent)).jobID
    }

    @Test func unknownJobIsNil() async throws {
        #expect(try await inspector.job(UUID()) == nil)
    }

    @Test func submittedJobReadsBackEveryField() async throws {
        let user = try await TestDatabase.makeUser(database)
        let project = try await TestDatabase.makeProject(database, user: user)
        let id = try await queue.submit(JobSubmission(
            kind: .sleep, args: ["seconds": 3], userID: user, projectID: project, idempotencyKey: "film-7",
            priority: 5, runAt: clock.now(), maxAttempts: 4)).jobID

        let job = try #require(try await inspector.job(id))
        #expect(job.id == id)
        #expect(job.kind == .sleep)
        #expect(job.state == .available)
        #expect(job.userID == user && job.projectID == project && job.parentID == nil)
        #expect(job.args == ["seconds": 3])
        #expect(job.result == nil)
        #expect(job.idempotencyKey == "film-7")
        #expect(job.priority == 5 && job.attempt == 0 && job.maxAttempts == 4)
        #expect(job.runAt == clock.now())
        #expect(job.leaseOwner == nil && job.leaseExpiresAt == nil && !job.cancelRequested)
        #expect(job.errors.isEmpty)
        #expect(job.attemptedAt == nil && job.finishedAt == nil)
        #expect(job.queueWait == nil && job.runTime(now: Date()) == nil)
    }

    @Test func runningJobShowsItsLeaseAndProgress() async throws {
        let id = try await submit()
        _ = try await queue.claim(owner: "node-a", limit: 1, lease: .seconds(30))
        _ = try await queue.heartbeat([queue.lease(of: id): 0.25], lease: .seconds(30))
        _ = try await queue.cancel(job: id)

        let job = try #require(try await inspector.job(id))
        #expect(job.state == .running && job.attempt == 1)
        #expect(job.leaseOwner == "node-a")
        #expect(job.leaseExpiresAt == clock.now()!.addingTimeInterval(30))
        #expect(job.attemptedAt == clock.now())
        #expect(job.progress == 0.25)
        #expect(job.cancelRequested)
    }

    @Test func errorHistoryReadsInAttemptOrderWithClassAndDetail() async throws {
        let id = try await submit(maxAttempts: 3)
        _ = try await queue.claim(owner: "a", limit: 1, lease: .seconds(30))
        _ = try await queue.fail(queue.lease(of: id), error: JobError("provider timed out"), delay: .zero)
        _ = try await queue.claim(owner: "a", limit: 1, lease: .seconds(30))
        _ = try await queue.fail(
            queue.lease(of: id), error: .permanent("content policy: prompt refused", detail: ["code": "policy"]), delay: .zero)

        let job = try #require(try await inspector.job(id))
        #expect(job.state == .failed)
        #expect(job.errors.map(\.attempt) == [1, 2])
        #expect(job.errors.map(\.error) == ["provider timed out", "content policy: prompt refused"])
        #expect(job.errors.map(\.failureClass) == ["transient", "permanent"])
        #expect(job.errors[0].detail == nil)
        #expect(job.errors[1].detail == ["code": "policy"])
        #expect(job.errors.allSatisfy { $0.at != nil })
    }

    @Test func completedJobHasItsResultAndTimings() async throws {
        let id = try await submit()
        _ = try await queue.claim(owner: "a", limit: 1, lease: .seconds(30))
        try await queue.complete([(queue.lease(of: id), ["asset": "a-1"])])
        // complete() stamps finished_at with the database's now(); pin every time to check the arithmetic.
        try await database.query(
            """
            update jobs set created_at = '2030-01-01T00:00:00Z', run_at = '2030-01-01T00:00:10Z',
                attempted_at = '2030-01-01T00:00:12Z', finished_at = '2030-01-01T00:01:12Z'
            where id = $1::uuid
            """, [id])

        let job = try #require(try await inspector.job(id))
        #expect(job.state == .completed)
        #expect(job.result == ["asset": "a-1"])
        #expect(job.progress == 1)
        #expect(job.queueWait == 2)
        #expect(job.runTime(now: Date()) == 60)
    }

    @Test func childrenAreTheJobsThatNameItAsParentOldestFirst() async throws {
        let parent = try await submit(key: "run")
        let first = try await submit(key: "step-1", parent: parent)
        let second = try await submit(key: "step-2", parent: parent)
        // Both were created in the same instant as far as the test can tell; make the order certain.
        try await database.query("update jobs set created_at = created_at + interval '1 second' where id = $1::uuid", [second])
        _ = try await submit(key: "unrelated")

        #expect(try await inspector.children(of: parent).map(\.id) == [first, second])
        #expect(try await inspector.children(of: first).isEmpty)
    }

    @Test func listFiltersByStateAndKindNewestFirstWithinTheLimit() async throws {
        var noops: [UUID] = []
        for n in 0..<4 {
            let id = try await submit(key: "noop-\(n)")
            try await database.query(
                "update jobs set created_at = '2030-01-01T00:00:00Z'::timestamptz + make_interval(secs => $2::int) where id = $1::uuid",
                [id, n])
            noops.append(id)
        }
        let sleeper = try await queue.submit(JobSubmission(kind: .sleep, args: ["seconds": 1], idempotencyKey: "sleep")).jobID
        _ = try await queue.cancel(job: noops[0])

        #expect(try await inspector.list().count == 5)
        #expect(try await inspector.list(.init(kind: .noop)).map(\.id) == noops.reversed())
        #expect(try await inspector.list(.init(kind: .noop, limit: 2)).map(\.id) == [noops[3], noops[2]])
        #expect(try await inspector.list(.init(state: .cancelled)).map(\.id) == [noops[0]])
        #expect(try await inspector.list(.init(state: .cancelled, kind: .sleep)).isEmpty)
        #expect(try await inspector.list(.init(kind: .sleep)).map(\.id) == [sleeper])
    }

    @Test func countsByStateCoverEveryJobAndHonourTheKind() async throws {
        for n in 0..<3 { _ = try await submit(key: "n-\(n)") }
        let cancelled = try await submit(key: "c")
        _ = try await queue.cancel(job: cancelled)
        _ = try await queue.submit(JobSubmission(kind: .sleep, args: ["seconds": 1], idempotencyKey: "s"))

        #expect(try await inspector.countsByState() == [.available: 4, .cancelled: 1])
        #expect(try await inspector.countsByState(kind: .noop) == [.available: 3, .cancelled: 1])
        #expect(try await inspector.countsByState(kind: JobKind("render.edit")).isEmpty)
    }
}
