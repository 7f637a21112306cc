import Foundation
import Logging
import ReelCore
import ReelDB
import ReelQueue
import ReelTestSupport
import ServiceLifecycle
import Testing

/// Each attempt's start and end reach the log with the job's fields, so that a job that simply
/// runs and completes can be found by its id (`journalctl JOB_ID=…`).
@Suite struct AttemptLoggingTests {
    let url: String
    let database: Database
    let queue: JobQueue

    init() throws {
        url = try TestDatabase.makeDatabase()
        database = Database(configuration: .init(url: url, maxConnections: 4), logger: TestDatabase.logger)
        queue = JobQueue(database: database)
    }

    func run(logs: CapturedLogs, until done: @escaping @Sendable () async throws -> Bool) async throws {
        var handlers = HandlerRegistry()
        handlers.register(.noop, ClosureHandler { _, _ in .completed(["ok": true]) })
        handlers.register(.sleep, ClosureHandler { _, _ in throw JobError.permanent("no such thing") })
        handlers.register(.image, ClosureHandler { _, _ in .completed(["ok": true]) })
        let worker = QueueWorker(
            queue: queue, handlers: handlers,
            configuration: .init(owner: "log-test", workers: 2, claimBatch: 4, lease: .seconds(10), heartbeatInterval: .seconds(2)),
            listenURL: url, logger: logs.logger())
        let group = ServiceGroup(configuration: .init(services: [worker], logger: TestDatabase.logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { tasks.cancelAll() }
            try await Poll.until("the jobs to end", timeout: .seconds(20)) { try await done() }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    func ended(_ ids: [UUID]) async throws -> Bool {
        try await database.query(
            "select count(*) as n from jobs where id = any($1::uuid[]) and state in ('completed', 'failed')", [SQLArray(ids)]
        )[0].int("n") == ids.count
    }

    @Test func aUsersJobLogsItsAttemptsStartAndEndAtInfoWithItsFields() async throws {
        let user = try await TestDatabase.makeUser(database)
        let project = try await TestDatabase.makeProject(database, user: user)
        let completes = try await queue.submit(JobSubmission(kind: .noop, args: ["provider": "local"], userID: user, projectID: project)).jobID
        let fails = try await queue.submit(JobSubmission(kind: .sleep, args: ["seconds": 1], userID: user, projectID: project, maxAttempts: 1)).jobID
        let system = try await queue.submit(JobSubmission(kind: .noop)).jobID
        let logs = CapturedLogs(level: .info)
        try await run(logs: logs) { try await ended([completes, fails, system]) }

        for (id, kind, state) in [(completes, "system.noop", "completed"), (fails, "system.sleep", "failed")] {
            let lines = logs.records.filter { $0.metadata["job_id"] == id.lowercasedText }
            let start = try #require(lines.first { $0.message == "Job attempt started" }, "\(lines)")
            let end = try #require(lines.first { $0.message == "Job attempt ended" }, "\(lines)")
            for line in [start, end] {
                #expect(line.level == .info)
                #expect(line.metadata["job_kind"] == kind)
                #expect(line.metadata["attempt"] == "1")
                #expect(line.metadata["project_id"] == project.lowercasedText)
            }
            #expect(end.metadata["state"] == state)
            #expect(end.metadata["duration_ms"].flatMap { Int($0) } != nil)
        }
        #expect(logs.records.first { $0.metadata["job_id"] == completes.lowercasedText && $0.message == "Job attempt ended" }?
            .metadata["provider"] == "local")
        // A system job's attempts are at debug: nothing of it at info.
        #expect(!logs.records.contains { $0.metadata["job_id"] == system.lowercasedText })
    }

    /// A job that names no provider runs on the default one, and its lines say which.
    @Test func aJobThatNamesNoProviderLogsTheDefaultProvider() async throws {
        try await queue.apply(QueueSettings(defaultProvider: "kling"))
        let user = try await TestDatabase.makeUser(database)
        let project = try await TestDatabase.makeProject(database, user: user)
        let image = try await queue.submit(JobSubmission(kind: .image, args: ["prompt": "a lighthouse"], userID: user, projectID: project)).jobID
        let logs = CapturedLogs(level: .info)
        try await run(logs: logs) { try await ended([image]) }
        let lines = logs.records.filter { $0.metadata["job_id"] == image.lowercasedText && $0.message.hasPrefix("Job attempt") }
        #expect(lines.map(\.message) == ["Job attempt started", "Job attempt ended"])
        #expect(lines.allSatisfy { $0.metadata["provider"] == "kling" }, "\(lines)")
    }

    @Test func aSystemJobLogsItsAttemptAtDebug() async throws {
        let system = try await queue.submit(JobSubmission(kind: .noop)).jobID
        let logs = CapturedLogs(level: .debug)
        try await run(logs: logs) { try await ended([system]) }
        let lines = logs.records.filter { $0.metadata["job_id"] == system.lowercasedText && $0.message.hasPrefix("Job attempt") }
        #expect(lines.map(\.message) == ["Job attempt started", "Job attempt ended"])
        #expect(lines.allSatisfy { $0.level == .debug && $0.metadata["job_kind"] == "system.noop" && $0.metadata["attempt"] == "1" })
        #expect(lines.last?.metadata["state"] == "completed")
    }
}
