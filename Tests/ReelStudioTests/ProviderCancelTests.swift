import Foundation
import Logging
import ReelBlocking
import ReelCore
import ReelDB
import ReelHTTP
import ReelProviderFakes
import ReelProviders
import ReelStorage
import ReelTestSupport
import Synchronization
import Testing

@testable import ReelQueue
@testable import ReelStudio

/// A video job cancelled while it waits on its provider's task: the cancel reaches the provider
/// (OpenAI deletes the video) through a system job the cancel enqueues, exactly once, and the
/// job ends cancelled with its reserve released.
@Suite struct ProviderCancelTests {
    struct Setup {
        let database: Database
        let queue: JobQueue
        let user: UUID
        let project: UUID
        let registry: ProviderRegistry
        let root: URL
        let pool: BlockingPool

        var store: StudioStore { StudioStore(database: database) }

        /// Submits a video on `provider`, runs its first attempt, which leaves a task at the
        /// provider, and records the snooze as the worker does.
        func waitingVideo(on provider: String) async throws -> (job: UUID, state: JSONValue?) {
            let handler = GenerationHandler(
                kind: .video, store: store, storage: MediaStorage(storage: LocalStorage(root: root), pool: pool),
                providers: registry, scratchRoot: root.appendingPathComponent("scratch"))
            let job = try await queue.submit(JobSubmission(
                kind: .video, args: ["prompt": "a lighthouse at dusk", "provider": .string(provider)], userID: user, projectID: project)).jobID
            let claimed = try #require(try await queue.claim(owner: "n1", limit: 1, lease: .seconds(30)).first)
            let context = JobContext(job: claimed, baseLogger: Logger(label: "test"), queue: queue, progressBox: ProgressBox(lease: claimed.lease))
            guard case .snooze(let after, let state) = try await handler.run(claimed, context: context) else {
                throw JobError.permanent("the video should wait on its provider")
            }
            #expect(try await queue.snooze(claimed.lease, for: after, state: state))
            return (job, state)
        }

        /// Runs every queued provider cancel once, as a node would; returns how many ran.
        func runProviderCancels(logger: Logger) async throws -> Int {
            let handler = ProviderCancelHandler(providers: registry, scratchRoot: root.appendingPathComponent("scratch"))
            var ran = 0
            for claimed in try await queue.claim(owner: "n1", limit: 10, lease: .seconds(30)) {
                #expect(claimed.kind == .providerCancel)
                let context = JobContext(job: claimed, baseLogger: logger, queue: queue, progressBox: ProgressBox(lease: claimed.lease))
                guard case .completed(let result) = try await handler.run(claimed, context: context) else {
                    throw JobError.permanent("a provider cancel completes")
                }
                try await queue.complete([(claimed.lease, result)])
                ran += 1
            }
            return ran
        }

        func close() {
            pool.shutdown()
            database.close()
            try? FileManager.default.removeItem(at: root)
        }
    }

    func setUp(_ providers: [any Provider]) async throws -> Setup {
        let database = try TestDatabase.makePool(connections: 2)
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("reeld-cancel-\(UUID().uuidString)")
        let user = try await TestDatabase.makeUser(database)
        _ = try await CreditLedger(database: database).purchase(user: user, credits: 10_000)
        let project = try await TestDatabase.makeProject(database, user: user)
        try await database.query("update public.projects set storyboard = '{}' where id = $1::uuid", [project])
        let registry = ProviderRegistry(
            providers: Dictionary(uniqueKeysWithValues: providers.map { ($0.name, $0) }), defaultName: providers[0].name)
        return Setup(database: database, queue: JobQueue(database: database), user: user, project: project, registry: registry,
                     root: root, pool: BlockingPool(maxThreads: 2))
    }

    @Test func cancellingAWaitingOpenAIVideoDeletesItAtOpenAIOnce() async throws {
        let fake = try FakeOpenAI()
        try await HTTPClient.withRunningClient(logger: Logger(label: "test")) { client in
            let openai = OpenAIProvider(settings: OpenAISettings(apiKey: FakeOpenAI.key, baseURL: fake.baseURL, soraEnabled: true), client: client)
            let s = try await setUp([openai])
            defer { s.close() }
            let ledger = CreditLedger(database: s.database)
            let (job, state) = try await s.waitingVideo(on: "openai")
            let video = try #require(state?["task_id"]?.stringValue)
            #expect(try await ledger.account(user: s.user)?.reserved ?? 0 > 0, "the waiting video holds its reserve")

            #expect(try await s.queue.cancel(job: job) == .cancelled)
            // A second cancel of the cancelled job asks nothing more of the provider.
            #expect(try await s.queue.cancel(job: job) == .cancelled)
            #expect(try await s.runProviderCancels(logger: Logger(label: "test")) == 1)

            #expect(fake.requests("DELETE /v1/videos/\(video)").count == 1)
            #expect(fake.state.value.videos[video] == nil, "the video is gone at OpenAI")
            #expect(try await ledger.account(user: s.user)?.reserved == 0, "the reserve is released")
            #expect(try await s.runProviderCancels(logger: Logger(label: "test")) == 0)
        }
    }

    /// A cancel that meets the job while a node polls its task: the attempt ends by snoozing,
    /// the job ends cancelled there, and the provider is asked to stop the task once.
    @Test func cancellingWhileThePollRunsReachesTheProviderWhenTheAttemptEnds() async throws {
        let provider = AcceptingProvider(rule: .lookUp)
        provider.dieAfterAccepting.store(false, ordering: .relaxed)
        let s = try await setUp([provider])
        defer { s.close() }
        let (job, state) = try await s.waitingVideo(on: provider.name)
        try await s.database.query("update public.jobs set run_at = now() where id = $1::uuid", [job])
        let polling = try #require(try await s.queue.claim(owner: "n1", limit: 1, lease: .seconds(30)).first)
        #expect(polling.id == job)

        #expect(try await s.queue.cancel(job: job) == .running, "a running job is only flagged")
        let none = try await s.database.query("select count(*) as n from public.jobs where kind = 'system.provider_cancel'")[0].int("n")
        #expect(none == 0, "nothing is asked of the provider while the attempt still runs")
        #expect(try await s.queue.snooze(polling.lease, for: .seconds(30), state: state))
        let row = try await s.database.query("select state::text from public.jobs where id = $1::uuid", [job])[0]
        #expect(try row.string("state") == "cancelled")

        let logs = CapturedLogs(level: .info)
        #expect(try await s.runProviderCancels(logger: logs.logger()) == 1)
        #expect(logs.records.filter { $0.message.contains("abandoned at the provider") }.count == 1)
        #expect(try await CreditLedger(database: s.database).account(user: s.user)?.reserved == 0, "the reserve is released")
    }

    @Test func aProviderWithoutCancelLogsTheTaskAsAbandoned() async throws {
        let provider = AcceptingProvider(rule: .lookUp)
        provider.dieAfterAccepting.store(false, ordering: .relaxed)
        let s = try await setUp([provider])
        defer { s.close() }
        let (job, state) = try await s.waitingVideo(on: provider.name)
        let generation = try #require(state?["generation_id"]?.stringValue)

        #expect(try await s.queue.cancel(job: job) == .cancelled)
        let logs = CapturedLogs(level: .info)
        #expect(try await s.runProviderCancels(logger: logs.logger()) == 1)
        let abandoned = logs.records.filter { $0.message.contains("abandoned at the provider, which has no cancel") }
        #expect(abandoned.count == 1)
        #expect(abandoned.first?.metadata["provider"] == provider.name)
        #expect(abandoned.first?.metadata["task"] == "task-1")
        #expect(abandoned.first?.metadata["generation_id"] == generation)
        #expect(abandoned.first?.metadata["cancelled_job_id"] == job.lowercasedText)
    }
}
