import Foundation
import Logging
import ReelBlocking
import ReelCore
import ReelDB
import ReelProviders
import ReelStorage
import ReelTestSupport
import Testing

@testable import ReelQueue
@testable import ReelStudio

/// A generation job submitted without `args.provider` goes where the routing table says, not
/// to the default provider, and the queue counts it on that provider from its next claim.
@Suite struct DirectRoutingTests {
    /// Runs the first attempt of a video job on a node with Kling, Google and OpenAI enabled
    /// and the built-in routes; returns the outcome and the job's row after it is settled.
    func firstAttempt(_ args: JSONValue) async throws -> (JobOutcome, provider: String?, attempt: Int, localRunning: Int) {
        let database = try TestDatabase.makePool(connections: 2)
        defer { database.close() }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("reeld-routing-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let user = try await TestDatabase.makeUser(database)
        _ = try await CreditLedger(database: database).purchase(user: user, credits: 10_000)
        let project = try await TestDatabase.makeProject(database, user: user)
        try await database.query("update public.projects set storyboard = '{}' where id = $1::uuid", [project])
        // The default provider is limited here, so that its running count shows the move.
        try await database.query("update reeld.providers set max_running = 5 where name = 'local'")
        let pool = BlockingPool(maxThreads: 2)
        defer { pool.shutdown() }
        // `local` too, as on a real node (on by default): a job left on the default provider
        // would be made there, placeholder media the user did not ask for.
        let providers: [any Provider] = [ScriptedProvider("kling", .makesImage), ScriptedProvider("google", .makesImage),
                                         ScriptedProvider("openai", .makesImage), ScriptedProvider("local", .makesImage)]
        let handler = GenerationHandler(
            kind: .video, store: StudioStore(database: database), storage: MediaStorage(storage: LocalStorage(root: root), pool: pool),
            providers: ProviderRegistry(providers: Dictionary(uniqueKeysWithValues: providers.map { ($0.name, $0) }), defaultName: "local"),
            scratchRoot: root.appendingPathComponent("scratch"))
        let queue = JobQueue(database: database)
        let job = try await queue.submit(JobSubmission(kind: .video, args: args, userID: user, projectID: project)).jobID
        let claimed = try #require(try await queue.claim(owner: "n1", limit: 1, lease: .seconds(30)).first)
        #expect(claimed.provider == (args["provider"]?.stringValue ?? "local"), "queued on the named or the default provider at submit")
        let context = JobContext(job: claimed, baseLogger: Logger(label: "test"), queue: queue, progressBox: ProgressBox(lease: claimed.lease))
        let outcome = try await handler.run(claimed, context: context)
        if case .handBack(let provider, let reason, let state) = outcome {
            #expect(try await queue.handBack(claimed.lease, provider: provider, reason: reason, state: state) == .available)
        }
        let row = try await database.query(
            """
            select provider, attempt,
                   (select started from reeld.providers where name = 'local')
                   - coalesce((select ended from reeld.provider_ends where name = 'local'), 0) as local_running
            from public.jobs where id = $1::uuid
            """, [job])[0]
        return (outcome, try row.optionalString("provider"), try row.int("attempt"), try row.int("local_running"))
    }

    @Test func aVideoNamingNoProviderGoesToTheFirstOfItsRoute() async throws {
        let (outcome, provider, attempt, localRunning) = try await firstAttempt(["prompt": "a lighthouse at dusk"])
        guard case .handBack("kling", nil, _) = outcome else { Issue.record("routed to kling: \(outcome)"); return }
        #expect(provider == "kling")
        #expect(attempt == 0, "the move spends no attempt")
        #expect(localRunning == 0, "the default provider's room is given back")
    }

    @Test func aVideoWithNativeAudioGoesToGoogle() async throws {
        let (outcome, provider, _, _) = try await firstAttempt(["prompt": "a lighthouse at dusk", "native_audio": true])
        guard case .handBack("google", nil, _) = outcome else { Issue.record("routed to google: \(outcome)"); return }
        #expect(provider == "google")
    }

    @Test func aVideoThatNamesItsProviderIsNotRouted() async throws {
        let (outcome, provider, _, _) = try await firstAttempt(["prompt": "a lighthouse at dusk", "provider": "openai"])
        guard case .completed = outcome else { Issue.record("made by openai where it was queued: \(outcome)"); return }
        #expect(provider == "openai")
    }

    /// An end frame needs a model that takes one, whatever the routing list's order.
    @Test func anEndFrameAsksTheRouterForAProviderThatTakesOne() throws {
        let job = ClaimedJob(
            id: UUID(), kind: .video, args: ["prompt": "p", "end_asset_id": .string(UUID().lowercasedText), "reference_asset_id": nil],
            attempt: 1, maxAttempts: 5, userID: nil, projectID: nil, parentID: nil, snoozeState: nil, priority: 100,
            createdAt: Date(), leaseToken: UUID())
        let route = GenerationHandler.routeRequest(job)
        #expect(route.needsEndFrame)
        #expect(route.provider == nil)
        let router = Router(routes: [.video: ["openai", "kling"]], enabled: ["openai", "kling"])
        #expect(try router.candidates(for: route) == ["kling"])
    }
}
