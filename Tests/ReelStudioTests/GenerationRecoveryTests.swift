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

/// A provider that looks tasks up: `generate` hands out a task and counts the calls (each one
/// would be paid for), `poll` records which tasks it was asked about and keeps them pending.
private final class CountingProvider: Provider {
    let name = "counting"
    let capabilities: Set<GenerationKind> = [.video]
    let generated = Atomic<Int>(0)
    let polled = Mutex<[String]>([])

    func generate(_ request: GenerationRequest, context: GenerationContext) async throws -> GenerationOutcome {
        let n = generated.add(1, ordering: .relaxed).newValue
        return .pending(ProviderTask(provider: name, id: "task-\(n)"), pollAfter: .seconds(30))
    }

    func poll(_ task: ProviderTask, request: GenerationRequest, context: GenerationContext) async throws -> GenerationOutcome {
        polled.withLock { $0.append(task.id) }
        return .pending(task, pollAfter: .seconds(30))
    }
}

@Suite struct GenerationRecoveryTests {
    /// The provider accepted the work and its task id was recorded, then the node lost the
    /// attempt before the snooze was committed (a crash, here a hand-back): the next attempt
    /// has no snooze state, and must poll the recorded task, not pay for a second generation.
    @Test func anAttemptAfterACrashPollsTheRecordedTaskInsteadOfGeneratingAgain() async throws {
        let database = try TestDatabase.makePool(connections: 2)
        defer { database.close() }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("reeld-recovery-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let user = try await TestDatabase.makeUser(database)
        let project = try await TestDatabase.makeProject(database, user: user)
        // The workflow's earlier step: a clip needs the project's storyboard.
        try await database.query("update public.projects set storyboard = '{}' where id = $1::uuid", [project])
        let queue = JobQueue(database: database)
        let provider = CountingProvider()
        let pool = BlockingPool(maxThreads: 2)
        let handler = GenerationHandler(
            kind: .video, store: StudioStore(database: database),
            storage: MediaStorage(storage: LocalStorage(root: root), pool: pool),
            providers: ProviderRegistry(providers: ["counting": provider], defaultName: "counting"),
            scratchRoot: root.appendingPathComponent("scratch"))
        let job = try await queue.submit(JobSubmission(
            kind: .video, args: ["prompt": "a lighthouse at dusk", "provider": "counting"], userID: user, projectID: project)).jobID

        func runOnce() async throws -> (ClaimedJob, JobOutcome) {
            let claimed = try #require(try await queue.claim(owner: "n1", limit: 1, lease: .seconds(30)).first)
            #expect(claimed.id == job)
            let context = JobContext(job: claimed, baseLogger: Logger(label: "test"), queue: queue,
                                     progressBox: ProgressBox(lease: claimed.lease))
            return (claimed, try await handler.run(claimed, context: context))
        }

        let (first, outcome) = try await runOnce()
        guard case .snooze = outcome else { Issue.record("a pending task snoozes the job"); return }
        #expect(provider.generated.load(ordering: .relaxed) == 1)
        // Lost before the snooze was recorded: the job is due again, with no snooze state.
        try await queue.release([first.lease])

        let (second, again) = try await runOnce()
        #expect(second.snoozeState?["task_id"] == nil, "no snooze was recorded")
        guard case .snooze(_, let state) = again else { Issue.record("the task is still pending"); return }
        #expect(provider.generated.load(ordering: .relaxed) == 1, "the provider is paid for one generation")
        #expect(provider.polled.withLock { $0 } == ["task-1"])
        #expect(state?["task_id"]?.stringValue == "task-1")
    }
}
