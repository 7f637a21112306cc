import Foundation
import Logging
import ReelBlocking
import ReelCore
import ReelDB
import ReelProviders
import ReelStorage
import ReelTestSupport
import ServiceLifecycle
import Synchronization
import Testing

@testable import ReelQueue
@testable import ReelStudio

/// A provider whose create call does what the test says: is refused before it reaches the
/// provider (certainly not accepted), fails after the provider took it, or makes an image.
final class ScriptedProvider: Provider {
    enum Behaviour: Sendable { case notAccepted, failsAfterAccepting, makesImage, notSentWhenCancelled, refusesTheRequest }

    let name: String
    let capabilities: Set<GenerationKind> = [.image, .video]
    let behaviour: Mutex<Behaviour>
    let created = Atomic<Int>(0)

    init(_ name: String, _ behaviour: Behaviour) {
        self.name = name
        self.behaviour = Mutex(behaviour)
    }

    func generate(_ request: GenerationRequest, context: GenerationContext) async throws -> GenerationOutcome {
        created.add(1, ordering: .relaxed)
        switch behaviour.withLock({ $0 }) {
        case .notAccepted:
            var error = JobError("\(name): connection refused")
            error.certainlyNotAccepted = true
            throw error
        case .failsAfterAccepting:
            throw JobError("\(name): HTTP 500 after the request was taken")
        case .refusesTheRequest:
            // As Google answers a create it will not run (a 400): nothing was started there,
            // but the request itself is at fault, and would be at any provider.
            throw RequestNotAccepted(JobError.permanent("\(name): HTTP 400 the prompt was blocked"))
        case .notSentWhenCancelled:
            // As an HTTP client that stops: the call waits its turn, the attempt is cancelled,
            // and the call ends unsent, which says nothing about the provider.
            try? await Task.sleep(for: .seconds(3600))
            var error = JobError("\(name): the client stopped before sending")
            error.certainlyNotAccepted = true
            throw error
        case .makesImage:
            try FileManager.default.createDirectory(at: context.workDirectory, withIntermediateDirectories: true)
            let file = context.workDirectory.appendingPathComponent("\(name).png")
            try Data([0x89, 0x50, 0x4E, 0x47]).write(to: file)
            return .finished(GenerationResult(files: [GeneratedFile(url: file, mimeType: "image/png")],
                                              usage: Usage(unit: "images", amount: 1), model: "\(name)-model"))
        }
    }

    func poll(_ task: ProviderTask, request: GenerationRequest, context: GenerationContext) async throws -> GenerationOutcome {
        .pending(task, pollAfter: .seconds(30))
    }

    func recoveryRule(for kind: GenerationKind) -> RecoveryRule { .resubmit }
}

/// A routed job whose provider certainly did not take the call moves to the next provider of
/// its route for real; a call that may have been taken, a job that named its provider and a
/// route with nothing left retry as before.
@Suite struct ProviderFallbackTests {
    struct Setup {
        let url: String
        let database: Database
        let queue: JobQueue
        let user: UUID
        let project: UUID
        let handler: GenerationHandler
        let registry: ProviderRegistry
        let root: URL
        let pool: BlockingPool

        func submit(_ args: JSONValue) async throws -> UUID {
            try await queue.submit(JobSubmission(kind: .image, args: args, userID: user, projectID: project)).jobID
        }

        /// One attempt, settled as the worker settles it.
        func attempt(logger: Logger = Logger(label: "test")) async throws -> (ClaimedJob, Result<JobOutcome, any Error>) {
            let claimed = try #require(try await queue.claim(owner: "n1", limit: 1, lease: .seconds(30)).first)
            let context = JobContext(job: claimed, baseLogger: logger, queue: queue, progressBox: ProgressBox(lease: claimed.lease))
            let result: Result<JobOutcome, any Error>
            do { result = .success(try await handler.run(claimed, context: context)) } catch { result = .failure(error) }
            switch result {
            case .success(.completed(let value)): try await queue.complete([(claimed.lease, value)])
            case .success(.snooze(let after, let state)): try await queue.snooze(claimed.lease, for: after, state: state)
            case .success(.handBack(let provider, let reason, let state)):
                try await queue.handBack(claimed.lease, provider: provider, reason: reason, state: state)
            case .failure(let error):
                try await queue.fail(claimed.lease, error: (error as? JobError) ?? JobError("\(error)"), delay: .zero)
            }
            return (claimed, result)
        }

        func job(_ id: UUID) async throws -> (state: String, provider: String?, attempt: Int, errors: JSONValue) {
            let row = try await database.query("select state::text, provider, attempt, errors from public.jobs where id = $1::uuid", [id])[0]
            return (try row.string("state"), try row.optionalString("provider"), try row.int("attempt"), try row.json("errors"))
        }

        func generationProvider(_ job: UUID) async throws -> String? {
            try await database.query("select provider from public.generations where job_id = $1::uuid", [job]).first?.string("provider")
        }

        /// Jobs running on `provider` as the claim's limits count them.
        func running(on provider: String) async throws -> Int {
            try await database.query(
                """
                select (select started from reeld.providers where name = $1)
                       - coalesce((select ended from reeld.provider_ends where name = $1), 0) as running
                """, [provider])[0].int("running")
        }

        func close() {
            pool.shutdown()
            database.close()
            try? FileManager.default.removeItem(at: root)
        }
    }

    func setUp(_ providers: [ScriptedProvider], routes: [JobKind: [String]]? = nil) async throws -> Setup {
        let url = try TestDatabase.makeDatabase()
        let database = Database(configuration: .init(url: url, maxConnections: 3), logger: TestDatabase.logger)
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("reeld-fallback-\(UUID().uuidString)")
        let user = try await TestDatabase.makeUser(database)
        _ = try await CreditLedger(database: database).purchase(user: user, credits: 10_000)
        let project = try await TestDatabase.makeProject(database, user: user)
        try await database.query("update public.projects set storyboard = '{}' where id = $1::uuid", [project])
        // Limited, so that the claim counts each provider's running jobs.
        for provider in providers {
            try await database.query("insert into reeld.providers (name, max_running) values ($1, 10)", [provider.name])
        }
        let pool = BlockingPool(maxThreads: 2)
        let registry = ProviderRegistry(
            providers: Dictionary(uniqueKeysWithValues: providers.map { ($0.name, $0 as any Provider) }), defaultName: "local",
            routes: routes ?? [.image: providers.map(\.name)])
        let handler = GenerationHandler(
            kind: .image, store: StudioStore(database: database),
            storage: MediaStorage(storage: LocalStorage(root: root), pool: pool),
            providers: registry, scratchRoot: root.appendingPathComponent("scratch"))
        return Setup(url: url, database: database, queue: JobQueue(database: database), user: user, project: project, handler: handler,
                     registry: registry, root: root, pool: pool)
    }

    /// Through a running worker: the job is queued on the default provider, routed to the
    /// first of its route, refused there before the call was taken, and made by the second.
    @Test func aCallTheFirstProviderDidNotTakeIsMadeByTheNextOne() async throws {
        let first = ScriptedProvider("first", .notAccepted)
        let second = ScriptedProvider("second", .makesImage)
        let s = try await setUp([first, second])
        defer { s.close() }
        let logs = CapturedLogs(level: .info)
        var handlers = HandlerRegistry()
        handlers.register(.image, s.handler)
        let worker = QueueWorker(
            queue: s.queue, handlers: handlers,
            configuration: .init(owner: "fallback-\(UUID())", workers: 1, claimBatch: 1, lease: .seconds(30),
                                 heartbeatInterval: .seconds(1), shutdownGrace: .seconds(5),
                                 backoff: Backoff(base: .seconds(3600), cap: .seconds(3600))),
            listenURL: s.url, logger: logs.logger())
        let group = ServiceGroup(configuration: .init(services: [worker], logger: TestDatabase.logger))
        let job = try await s.submit(["prompt": "a lighthouse at dusk"])
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            // A retry would wait an hour (the backoff): only a fallback completes it in time.
            try await Poll.until("the job ends its attempts", timeout: .seconds(60)) {
                ["completed", "failed", "retryable"].contains(try await s.job(job).state)
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        let row = try await s.job(job)
        #expect(row.state == "completed")
        #expect(row.provider == "second", "the job runs on the provider that made it")
        #expect(row.attempt == 1, "moving spends no attempt")
        #expect(first.created.load(ordering: .relaxed) == 1)
        #expect(second.created.load(ordering: .relaxed) == 1)
        #expect(try await s.generationProvider(job) == "second")
        #expect(try await s.running(on: "first") == 0, "the first provider's room is given back")
        #expect(try await s.running(on: "second") == 0)
        let fallback = row.errors.arrayValue?.last
        #expect(fallback?["class"] == "fallback")
        #expect(fallback?["error"]?.stringValue?.hasPrefix("falling back from first to second: first: connection refused") == true)
        let line = logs.records.first { $0.message.contains("falling back") }
        #expect(line?.metadata["from"] == "first")
        #expect(line?.metadata["to"] == "second")
        #expect(line?.metadata["reason"]?.contains("connection refused") == true)
        #expect(line?.metadata["job_id"] == job.lowercasedText)
    }

    @Test func aCallTheProviderMayHaveTakenDoesNotFallBack() async throws {
        let first = ScriptedProvider("first", .failsAfterAccepting)
        let second = ScriptedProvider("second", .makesImage)
        let s = try await setUp([first, second])
        defer { s.close() }
        let job = try await s.submit(["prompt": "a lighthouse at dusk"])
        let (_, routed) = try await s.attempt()
        guard case .success(.handBack("first", nil, _)) = routed else { Issue.record("routed to the first: \(routed)"); return }
        let (_, result) = try await s.attempt()
        guard case .failure(let error as JobError) = result else { Issue.record("the attempt fails: \(result)"); return }
        #expect(error.failureClass == .transient)
        let row = try await s.job(job)
        #expect(row.state == "retryable", "retried with backoff on the same provider")
        #expect(row.provider == "first")
        #expect(second.created.load(ordering: .relaxed) == 0)
        #expect(try await s.running(on: "first") == 0)
    }

    @Test func withNoProviderLeftTheJobRetriesAsBefore() async throws {
        let first = ScriptedProvider("first", .makesImage)
        let second = ScriptedProvider("second", .notAccepted)
        let s = try await setUp([first, second], routes: [.image: ["second", "first"]])
        defer { s.close() }
        first.behaviour.withLock { $0 = .notAccepted }
        let job = try await s.submit(["prompt": "a lighthouse at dusk"])
        _ = try await s.attempt()  // routed to "second"
        let (_, moved) = try await s.attempt()
        guard case .success(.handBack("first", _, _)) = moved else { Issue.record("falls back to first: \(moved)"); return }
        let (_, result) = try await s.attempt()
        guard case .failure(let error as JobError) = result else { Issue.record("the attempt fails: \(result)"); return }
        #expect(error.certainlyNotAccepted)
        let row = try await s.job(job)
        #expect(row.state == "retryable")
        #expect(row.provider == "first", "the last provider of the route keeps it")
        #expect(row.attempt == 1)
        // The retry stays on the provider it fell back to, and makes the image once it answers.
        first.behaviour.withLock { $0 = .makesImage }
        let (_, done) = try await s.attempt()
        guard case .success(.completed) = done else { Issue.record("completes on first: \(done)"); return }
        #expect(second.created.load(ordering: .relaxed) == 1, "not sent back to the top of the route")
        #expect(try await s.generationProvider(job) == "first")
    }

    @Test func aJobThatNamesItsProviderDoesNotFallBack() async throws {
        let first = ScriptedProvider("first", .notAccepted)
        let second = ScriptedProvider("second", .makesImage)
        let s = try await setUp([first, second])
        defer { s.close() }
        let job = try await s.submit(["prompt": "a lighthouse at dusk", "provider": "first"])
        let (_, result) = try await s.attempt()
        guard case .failure(let error as JobError) = result else { Issue.record("the attempt fails: \(result)"); return }
        #expect(error.certainlyNotAccepted)
        let row = try await s.job(job)
        #expect(row.state == "retryable")
        #expect(row.provider == "first")
        #expect(second.created.load(ordering: .relaxed) == 0)
    }

    /// A request the provider refused as wrong (a 4xx it started nothing for) fails the job: the
    /// next provider would be sent the same request, and might make and bill it.
    @Test func aRequestTheProviderRefusedFailsWithoutFallingBack() async throws {
        let first = ScriptedProvider("first", .refusesTheRequest)
        let second = ScriptedProvider("second", .makesImage)
        let s = try await setUp([first, second])
        defer { s.close() }
        let job = try await s.submit(["prompt": "a lighthouse at dusk"])
        _ = try await s.attempt()  // routed to "first"
        let (_, result) = try await s.attempt()
        guard case .failure(let error as JobError) = result else { Issue.record("the attempt fails: \(result)"); return }
        #expect(error.failureClass == .permanent)
        let row = try await s.job(job)
        #expect(row.state == "failed")
        #expect(row.provider == "first")
        #expect(second.created.load(ordering: .relaxed) == 0)
    }

    /// An attempt cancelled under its call (a node's shutdown, a lost lease) may see the call
    /// end unsent; its provider did nothing wrong, so the job is not moved to the next one.
    @Test func aCallEndedByTheAttemptsOwnCancelDoesNotFallBack() async throws {
        let first = ScriptedProvider("first", .notSentWhenCancelled)
        let second = ScriptedProvider("second", .makesImage)
        let s = try await setUp([first, second])
        defer { s.close() }
        let job = try await s.submit(["prompt": "a lighthouse at dusk"])
        _ = try await s.attempt()  // routed to "first"
        let claimed = try #require(try await s.queue.claim(owner: "n1", limit: 1, lease: .seconds(30)).first)
        let context = JobContext(job: claimed, baseLogger: Logger(label: "test"), queue: s.queue, progressBox: ProgressBox(lease: claimed.lease))
        let result = try await withThrowingTaskGroup(of: Result<JobOutcome, any Error>.self) { group in
            group.addTask {
                do { return .success(try await s.handler.run(claimed, context: context)) } catch { return .failure(error) }
            }
            try await Poll.until("the call to the first provider is under way", timeout: .seconds(30)) {
                first.created.load(ordering: .relaxed) == 1
            }
            group.cancelAll()
            return try await group.next()!
        }
        if case .success(let outcome) = result { Issue.record("the cancelled attempt ends with an error, not \(outcome)") }
        #expect(try await s.job(job).provider == "first")
        #expect(second.created.load(ordering: .relaxed) == 0)
    }

    /// The workflow writes the router's choice into `args.provider` with `routed: true`: such
    /// a child falls back as a job that named nothing does.
    @Test func aChildWhoseProviderTheRouterChoseFallsBack() async throws {
        let first = ScriptedProvider("first", .notAccepted)
        let second = ScriptedProvider("second", .makesImage)
        let s = try await setUp([first, second])
        defer { s.close() }
        let job = try await s.submit(["prompt": "a lighthouse at dusk", "provider": "first", "routed": true])
        #expect(try await s.job(job).provider == "first", "queued on the router's choice at submit")
        let (_, moved) = try await s.attempt()
        guard case .success(.handBack("second", _, _)) = moved else { Issue.record("falls back to second: \(moved)"); return }
        let (_, done) = try await s.attempt()
        guard case .success(.completed) = done else { Issue.record("completes on second: \(done)"); return }
        #expect(try await s.job(job).provider == "second")
    }
}
