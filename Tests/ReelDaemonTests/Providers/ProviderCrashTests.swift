import Foundation
import ReelCore
import ReelProviderFakes
import ReelTestSupport
import Testing

extension ProcessTests.ProviderCrashTests {
    /// What a crash between "provider accepted" and "task id recorded" left, and what the node
    /// started afterwards made of it.
    struct Recovery {
        let generation: ProviderStage.GenerationRow
        let job: ProviderStage.JobRow
        let second: ReeldProcess
    }

    /// Runs `job` on a first node while the fake withholds its create answers: once the fake has
    /// taken exactly one create (and the generation says `submitting`, so the node got no further),
    /// SIGKILLs the node, lets the fake answer again (`release`), starts a second node and waits
    /// until the job has ended there (its rescuer returns the dead node's job to the queue once
    /// the lease has run out).
    func crashDuringCreate(_ job: UUID, stage: ProviderStage, creates: @Sendable () -> Int, release: () -> Void) async throws -> Recovery {
        let first = try stage.startNode("first")
        defer { first.process.killAndReap() }
        try await stage.eventually("the provider to take one create for job \(job)", nodes: [first]) {
            creates() >= 1
        }
        let held = try await stage.generations(job: job)
        try #require(creates() == 1 && held.count == 1 && held[0].state == "submitting",
                     "one create taken, its generation submitting: \(creates()) creates, \(held)")
        let running = try await stage.job(job)
        try #require(running.state == "running" && running.leaseOwner == first.owner, "the job runs on the first node: \(running)")

        try await stage.kill(first)
        release()
        let second = try stage.startNode("second")
        let ended = try await stage.waitUntilEnded(job, nodes: [second])
        let generations = try await stage.generations(job: job)
        #expect(generations.count == 1, "one generation for the job: \(generations)")
        return Recovery(generation: try #require(generations.first), job: ended, second: second)
    }

    /// OpenAI images answer synchronously: an answer lost with the node is made again (two
    /// creates, as documented), and the user is charged once, for the image stored.
    @Test func anOpenAIImageInterruptedAfterTheCreateIsMadeAgainAndChargedOnce() async throws {
        let fake = try FakeOpenAI()
        fake.servedImage = try FakeMedia.png()
        fake.holdCreates = true
        let stage = try await ProviderStage(prefix: "reeld-crash-openai-image", endpoints: [.openAI(fake)])
        defer { stage.remove() }
        let job = try await stage.submit(.image, ["prompt": "A lighthouse at dusk", "provider": "openai"])

        let recovery = try await crashDuringCreate(job, stage: stage, creates: { fake.createCount }, release: { fake.holdCreates = false })
        defer { recovery.second.process.killAndReap() }
        #expect(recovery.job.state == "completed", "\(recovery.job)\n\(recovery.second.process.stderrTail())")
        #expect(fake.createCount == 2, "creates: \(fake.createCount)")
        #expect(recovery.generation.state == "completed" && recovery.generation.provider == "openai", "\(recovery.generation)")
        #expect(recovery.second.process.standardError.contains("Calling the provider again for a generation whose earlier call went unrecorded"))
        // The image stored is the one the provider served.
        let asset = try #require(recovery.generation.assetID)
        let size = try await stage.database.query("select size_bytes from public.assets where id = $1::uuid", [asset])[0].int("size_bytes")
        #expect(size == fake.servedImage.count)

        // One image at 10 credits, captured once; the reserve is settled and the ledger balances.
        let movements = try await stage.movements(job: job)
        #expect(movements["capture"] == 10 && movements["reserve"] == 10 + (movements["release"] ?? 0), "\(movements)")
        let account = try await stage.account()
        #expect(account.captures == 1 && account.captured == 10 && account.balanced, "\(account)")
        #expect(account.balance == account.credited - 10)
        try await stage.stop([recovery.second])
    }

    /// Sora takes no client reference, so a video whose create may have been taken is neither
    /// made again nor looked up: the job fails "outcome unknown" naming the generation, the
    /// generation stays outcome_unknown for an operator, and the user's reserve is released.
    @Test func anOpenAISoraVideoInterruptedAfterTheCreateFailsAsOutcomeUnknownUncharged() async throws {
        let fake = try FakeOpenAI()
        fake.servedVideo = try FakeMedia.mp4(seconds: 4)
        fake.videoProgress = .completeAfter(polls: 0)
        fake.holdCreates = true
        let stage = try await ProviderStage(prefix: "reeld-crash-openai-sora", endpoints: [.openAI(fake, sora: true)])
        defer { stage.remove() }
        let job = try await stage.submit(.video, ["prompt": "Waves on a breakwater", "provider": "openai", "duration_seconds": 4])

        let recovery = try await crashDuringCreate(job, stage: stage, creates: { fake.createCount }, release: { fake.holdCreates = false })
        defer { recovery.second.process.killAndReap() }
        let generation = recovery.generation.id.lowercasedText
        #expect(fake.createCount == 1, "creates: \(fake.createCount)")
        #expect(recovery.job.state == "failed", "\(recovery.job)\n\(recovery.second.process.stderrTail())")
        #expect(recovery.job.lastError.hasPrefix("outcome unknown:") && recovery.job.lastError.contains(generation), "\(recovery.job)")
        #expect(recovery.generation.state == "outcome_unknown" && recovery.generation.error == recovery.job.lastError, "\(recovery.generation)")
        // Logged at error level with the generation and the provider, for the operator.
        let logged = recovery.second.logLine(containing: ["level=error", "Generation outcome unknown", generation, "openai"])
        #expect(logged != nil, "\(recovery.second.process.stderrTail())")

        // Reserved, then released whole: nothing captured.
        let movements = try await stage.movements(job: job)
        #expect(movements["capture"] == nil && movements["reserve"] == 100 && movements["release"] == 100, "\(movements)")
        let account = try await stage.account()
        #expect(account.captures == 0 && account.balanced && account.balance == account.credited, "\(account)")
        try await stage.stop([recovery.second])
    }
}
