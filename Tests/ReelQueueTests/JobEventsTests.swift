import Foundation
import ReelCore
import ReelDB
import ReelQueue
import ReelTestSupport
import Testing

/// The studio's realtime view: every state or progress change arrives on `reeld_events`.
@Suite struct JobEventsTests {
    let url: String
    let database: Database
    let queue: JobQueue

    init() throws {
        url = try TestDatabase.makeDatabase()
        database = Database(configuration: .init(url: url, maxConnections: 2), logger: TestDatabase.logger)
        queue = JobQueue(database: database)
    }

    struct Event: Equatable {
        var id: UUID
        var kind: String
        var project: UUID?
        var state: String
        var progress: Double
    }

    /// Collects events for `id` until `count` have arrived (or 10 s pass).
    func events(for id: UUID, count: Int, from iterator: inout AsyncStream<DatabaseNotification>.Iterator) async throws -> [Event] {
        var found: [Event] = []
        let deadline = ContinuousClock.now + .seconds(10)
        while found.count < count, ContinuousClock.now < deadline {
            guard let note = await iterator.next() else { break }
            guard note.channel == "reeld_events" else { continue }
            for item in try JSONValue(parsing: Array(note.payload.utf8)).arrayValue ?? [] {
                guard item["id"]?.stringValue.flatMap({ UUID(text: $0) }) == id else { continue }
                found.append(Event(
                    id: id, kind: item["kind"]?.stringValue ?? "", project: item["project"]?.stringValue.flatMap { UUID(text: $0) },
                    state: item["state"]?.stringValue ?? "", progress: item["progress"]?.doubleValue ?? -1))
            }
        }
        return found
    }

    func listening() async -> (NotificationListener, AsyncStream<DatabaseNotification>.Iterator) {
        let listener = NotificationListener(url: url, channels: ["reeld_events"], logger: TestDatabase.logger)
        var iterator = listener.notifications.makeAsyncIterator()
        // The first delivery says the LISTEN is in place.
        _ = await iterator.next()
        return (listener, iterator)
    }

    @Test func aJobsLifePublishesEachStateAndItsProgress() async throws {
        let user = try await TestDatabase.makeUser(database)
        let project = try await TestDatabase.makeProject(database, user: user)
        // Audio voices the storyboard: the workflow rules refuse it before there is one.
        try await database.query("update projects set storyboard = '{}' where id = $1::uuid", [project])
        var (listener, iterator) = await listening()
        defer { listener.stop() }

        let id = try await queue.submit(JobSubmission(kind: .speech, args: ["text": "hi"], projectID: project)).jobID
        let claimed = try await queue.claim(owner: "events", limit: 1, lease: .seconds(30))
        #expect(claimed.map(\.id) == [id])
        _ = try await queue.heartbeat([queue.lease(of: id): 0.5], lease: .seconds(30))
        try await queue.complete([(queue.lease(of: id), .null)])

        let seen = try await events(for: id, count: 4, from: &iterator)
        #expect(seen.map(\.state) == ["available", "running", "running", "completed"])
        #expect(seen.map(\.progress) == [0, 0, 0.5, 1])
        #expect(seen.allSatisfy { $0.kind == "audio.speech" && $0.project == project })
    }

    @Test func failuresRetriesAndCancelsArePublished() async throws {
        var (listener, iterator) = await listening()
        defer { listener.stop() }
        let id = try await queue.submit(JobSubmission(kind: .noop, maxAttempts: 1)).jobID
        _ = try await queue.claim(owner: "events", limit: 1, lease: .seconds(30))
        try await queue.fail(queue.lease(of: id), error: JobError.permanent("no"), delay: .zero)
        _ = try await queue.retry(job: id)
        _ = try await queue.cancel(job: id)

        let seen = try await events(for: id, count: 5, from: &iterator)
        #expect(seen.map(\.state) == ["available", "running", "failed", "available", "cancelled"])
    }

    @Test func leaseExtensionsAloneAreNotPublished() async throws {
        var (listener, iterator) = await listening()
        defer { listener.stop() }
        let id = try await queue.submit(JobSubmission(kind: .noop)).jobID
        _ = try await queue.claim(owner: "events", limit: 1, lease: .seconds(30))
        let lease = try await queue.lease(of: id)
        for _ in 0..<3 { _ = try await queue.heartbeat([lease: nil], lease: .seconds(30)) }
        try await queue.complete([(queue.lease(of: id), .null)])
        let seen = try await events(for: id, count: 3, from: &iterator)
        #expect(seen.map(\.state) == ["available", "running", "completed"])
    }

    /// PostgreSQL refuses a notification of 8,000 bytes or more: changes are split by size, so
    /// that no batch (here 50 exports of a project per 8,001 bytes at a fixed count) makes the
    /// statement that publishes them fail.
    @Test func aLargeBatchOfChangesIsSplitIntoNotificationsThatFit() async throws {
        var (listener, iterator) = await listening()
        defer { listener.stop() }
        let sent = try await database.query(
            """
            select reeld.publish(array(
                select (gen_random_uuid(), 'render.export', $1::uuid, 'retryable', 0.33333334::real, now() + interval '1 hour')::reeld.job_change
                from generate_series(1, 200))) as n
            """, [UUID()])[0].int("n")
        #expect(sent == 200)
        var received = 0
        let deadline = ContinuousClock.now + .seconds(10)
        while received < 200, ContinuousClock.now < deadline {
            guard let note = await iterator.next() else { break }
            guard note.channel == "reeld_events" else { continue }
            #expect(note.payload.utf8.count < 8000)
            received += try JSONValue(parsing: Array(note.payload.utf8)).arrayValue?.count ?? 0
        }
        #expect(received == 200)
    }
}
