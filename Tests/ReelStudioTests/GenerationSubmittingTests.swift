import Foundation
import Logging
import ReelBlocking
import ReelCore
import ReelDB
import ReelProviders
import ReelStorage
import ReelTestSupport
import Synchronization
import Testing

@testable import ReelQueue
@testable import ReelStudio

/// A provider that keeps its tasks by the client reference, as Kling does with
/// `external_task_id`, and counts create calls (each one would be paid for). While `dieAfterAccepting`
/// is set, `generate` accepts the work and then throws before the handler hears of the task: the
/// database is left as a process killed between "provider accepted" and "task id recorded".
final class AcceptingProvider: Provider {
    let name = "accepting"
    let capabilities: Set<GenerationKind> = [.video, .image]
    let rule: RecoveryRule
    let created = Atomic<Int>(0)
    let lookedUp = Atomic<Int>(0)
    let tasks = Mutex<[String: String]>([:])
    let dieAfterAccepting = Atomic<Bool>(true)
    let refuseConnection = Atomic<Bool>(false)

    init(rule: RecoveryRule) { self.rule = rule }

    struct Killed: Error {}

    func generate(_ request: GenerationRequest, context: GenerationContext) async throws -> GenerationOutcome {
        if refuseConnection.load(ordering: .relaxed) {
            throw RequestNotAccepted(JobError("connection refused"))
        }
        let n = created.add(1, ordering: .relaxed).newValue
        let task = "task-\(n)"
        tasks.withLock { $0[request.externalID] = task }
        if dieAfterAccepting.load(ordering: .relaxed) { throw Killed() }
        return .pending(ProviderTask(provider: name, id: task), pollAfter: .seconds(30))
    }

    func poll(_ task: ProviderTask, request: GenerationRequest, context: GenerationContext) async throws -> GenerationOutcome {
        .pending(task, pollAfter: .seconds(30))
    }

    func recoveryRule(for kind: GenerationKind) -> RecoveryRule { rule }

    func lookup(externalID: String, request: GenerationRequest, context: GenerationContext) async throws -> ProviderTask? {
        lookedUp.add(1, ordering: .relaxed)
        return tasks.withLock { $0[externalID] }.map { ProviderTask(provider: name, id: $0) }
    }
}

/// A create call cut off between the provider accepting it and its task id being recorded:
/// the next attempt follows the provider's recovery rule, and the user pays for one generation
/// at most.
@Suite struct GenerationSubmittingTests {
    struct Setup {
        let database: Database
        let queue: JobQueue
        let user: UUID
        let job: UUID
        let handler: GenerationHandler
        let root: URL
        let pool: BlockingPool

        func attempt() async throws -> (ClaimedJob, Result<JobOutcome, any Error>) {
            let claimed = try #require(try await queue.claim(owner: "n1", limit: 1, lease: .seconds(30)).first)
            #expect(claimed.id == job)
            let context = JobContext(job: claimed, baseLogger: Logger(label: "test"), queue: queue, progressBox: ProgressBox(lease: claimed.lease))
            do {
                return (claimed, .success(try await handler.run(claimed, context: context)))
            } catch {
                return (claimed, .failure(error))
            }
        }

        func generation() async throws -> (state: String, task: String?) {
            let row = try await database.query("select state, provider_task_id from public.generations where job_id = $1::uuid", [job])[0]
            return (try row.string("state"), try row.optionalString("provider_task_id"))
        }

        func close() {
            pool.shutdown()
            database.close()
            try? FileManager.default.removeItem(at: root)
        }
    }

    func setUp(_ provider: AcceptingProvider, kind: GenerationKind = .video) async throws -> Setup {
        let database = try TestDatabase.makePool(connections: 2)
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("reeld-submitting-\(UUID().uuidString)")
        let user = try await TestDatabase.makeUser(database)
        _ = try await CreditLedger(database: database).purchase(user: user, credits: 10_000)
        let project = try await TestDatabase.makeProject(database, user: user)
        // The workflow's earlier step: a clip needs the project's storyboard.
        try await database.query("update public.projects set storyboard = '{}' where id = $1::uuid", [project])
        let queue = JobQueue(database: database)
        let pool = BlockingPool(maxThreads: 2)
        let handler = GenerationHandler(
            kind: kind, store: StudioStore(database: database),
            storage: MediaStorage(storage: LocalStorage(root: root), pool: pool),
            providers: ProviderRegistry(providers: [provider.name: provider], defaultName: provider.name),
            scratchRoot: root.appendingPathComponent("scratch"))
        let job = try await queue.submit(JobSubmission(
            kind: kind == .video ? .video : .image, args: ["prompt": "a lighthouse at dusk", "provider": .string(provider.name)],
            userID: user, projectID: project)).jobID
        return Setup(database: database, queue: queue, user: user, job: job, handler: handler, root: root, pool: pool)
    }

    /// The first attempt: the provider accepts, then the attempt dies before recording the task.
    func crashAfterAccepting(_ s: Setup, _ provider: AcceptingProvider) async throws {
        let (first, result) = try await s.attempt()
        guard case .failure(let error) = result, error is AcceptingProvider.Killed else {
            Issue.record("the first attempt dies after the provider accepted: \(result)")
            return
        }
        #expect(provider.created.load(ordering: .relaxed) == 1)
        #expect(try await s.generation().state == "submitting")
        #expect(try await s.generation().task == nil)
        try await s.queue.release([first.lease])
        provider.dieAfterAccepting.store(false, ordering: .relaxed)
    }

    @Test func whereTheProviderCanBeAskedTheTaskIsLookedUpAndCreatedOnce() async throws {
        let provider = AcceptingProvider(rule: .lookUp)
        let s = try await setUp(provider)
        defer { s.close() }
        try await crashAfterAccepting(s, provider)

        let (_, result) = try await s.attempt()
        guard case .success(.snooze(_, let state)) = result else { Issue.record("the found task is polled: \(result)"); return }
        #expect(provider.created.load(ordering: .relaxed) == 1, "one create call: one payment")
        #expect(provider.lookedUp.load(ordering: .relaxed) == 1)
        #expect(state?["task_id"]?.stringValue == "task-1")
        #expect(try await s.generation() == ("submitted", "task-1"))
    }

    @Test func whereNothingCanBeAskedTheJobFailsAsOutcomeUnknownWithoutCharge() async throws {
        let provider = AcceptingProvider(rule: .outcomeUnknown)
        let s = try await setUp(provider)
        defer { s.close() }
        let ledger = CreditLedger(database: s.database)
        let before = try #require(try await ledger.account(user: s.user))
        try await crashAfterAccepting(s, provider)

        let (second, result) = try await s.attempt()
        guard case .failure(let error as JobError) = result else { Issue.record("the attempt fails: \(result)"); return }
        #expect(error.failureClass == .permanent)
        #expect(error.message.hasPrefix("outcome unknown"))
        #expect(provider.created.load(ordering: .relaxed) == 1, "not submitted again")
        #expect(try await s.generation().state == "outcome_unknown")
        #expect(try await s.queue.fail(second.lease, error: error, delay: .zero) == .failed)
        let after = try #require(try await ledger.account(user: s.user))
        #expect(after.balance + after.reserved == before.balance + before.reserved, "nothing charged")
        #expect(after.reserved == 0, "the reserve is released")
    }

    @Test func aCheapSynchronousKindIsSubmittedAgain() async throws {
        let provider = AcceptingProvider(rule: .resubmit)
        let s = try await setUp(provider, kind: .image)
        defer { s.close() }
        try await crashAfterAccepting(s, provider)

        let (_, result) = try await s.attempt()
        guard case .success(.snooze) = result else { Issue.record("the new call's task is kept: \(result)"); return }
        #expect(provider.created.load(ordering: .relaxed) == 2)
        #expect(provider.lookedUp.load(ordering: .relaxed) == 0)
        #expect(try await s.generation() == ("submitted", "task-2"))
    }

    /// A call the provider certainly did not take (connection refused) leaves nothing to
    /// recover: the next attempt calls again even where nothing can be asked.
    @Test func aCallCertainlyNotAcceptedIsMadeAgainEvenWithoutLookup() async throws {
        let provider = AcceptingProvider(rule: .outcomeUnknown)
        provider.refuseConnection.store(true, ordering: .relaxed)
        provider.dieAfterAccepting.store(false, ordering: .relaxed)
        let s = try await setUp(provider)
        defer { s.close() }
        let (first, result) = try await s.attempt()
        guard case .failure(let error as JobError) = result else { Issue.record("the refused call fails the attempt: \(result)"); return }
        #expect(error.failureClass == .transient)
        #expect(try await s.generation().state == "pending")
        try await s.queue.release([first.lease])

        provider.refuseConnection.store(false, ordering: .relaxed)
        let (_, again) = try await s.attempt()
        guard case .success(.snooze) = again else { Issue.record("the call is made: \(again)"); return }
        #expect(provider.created.load(ordering: .relaxed) == 1)
        #expect(try await s.generation() == ("submitted", "task-1"))
    }
}
