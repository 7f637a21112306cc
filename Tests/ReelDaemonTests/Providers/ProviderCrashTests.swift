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

    /// A resubmitting provider's recovery: the job completed with what the second create made
    /// (`creates` in all), its one generation completed at `provider` holding `served`, and the
    /// user charged once, for at most the job's reserve, the rest released; the ledger balances.
    func expectMadeAgain(_ recovery: Recovery, job: UUID, stage: ProviderStage, provider: String, creates: Int, served: [UInt8]) async throws {
        #expect(recovery.job.state == "completed", "\(recovery.job)\n\(recovery.second.process.stderrTail())")
        #expect(creates == 2, "creates: \(creates)")
        #expect(recovery.generation.state == "completed" && recovery.generation.provider == provider, "\(recovery.generation)")
        #expect(recovery.second.process.standardError.contains("Calling the provider again for a generation whose earlier call went unrecorded"))
        try await expectStored(recovery, stage: stage, served: served)
        try await expectChargedOnce(job: job, stage: stage)
    }

    /// The generation's asset holds exactly the bytes the provider served.
    func expectStored(_ recovery: Recovery, stage: ProviderStage, served: [UInt8]) async throws {
        let asset = try #require(recovery.generation.assetID, "\(recovery.generation)")
        let size = try await stage.database.query("select size_bytes from public.assets where id = $1::uuid", [asset])[0].int("size_bytes")
        #expect(size == served.count)
    }

    /// One capture for the job, within its reserve, the rest released; the user's balance is
    /// what was bought less that one capture.
    func expectChargedOnce(job: UUID, stage: ProviderStage) async throws {
        let movements = try await stage.movements(job: job)
        let captured = try #require(movements["capture"], "\(movements)")
        #expect(captured > 0 && movements["reserve"] == captured + (movements["release"] ?? 0), "\(movements)")
        let account = try await stage.account()
        #expect(account.captures == 1 && account.captured == captured && account.balanced, "\(account)")
        #expect(account.balance == account.credited - captured)
    }

    /// An outcome-unknown provider's recovery: no second create (`creates` is 1), the job failed
    /// "outcome unknown" naming the generation, which stays outcome_unknown with the same error,
    /// an error-level line for the operator, and the reserve released whole.
    func expectOutcomeUnknown(_ recovery: Recovery, job: UUID, stage: ProviderStage, provider: String, creates: Int) async throws {
        let generation = recovery.generation.id.lowercasedText
        #expect(creates == 1, "creates: \(creates)")
        #expect(recovery.job.state == "failed", "\(recovery.job)\n\(recovery.second.process.stderrTail())")
        #expect(recovery.job.lastError.hasPrefix("outcome unknown:") && recovery.job.lastError.contains(generation), "\(recovery.job)")
        #expect(recovery.generation.state == "outcome_unknown" && recovery.generation.error == recovery.job.lastError, "\(recovery.generation)")
        #expect(recovery.generation.provider == provider)
        // Logged at error level with the generation and the provider, for the operator.
        let logged = recovery.second.logLine(containing: ["level=error", "Generation outcome unknown", generation, provider])
        #expect(logged != nil, "\(recovery.second.process.stderrTail())")

        // Reserved, then released whole: nothing captured.
        let movements = try await stage.movements(job: job)
        #expect(movements["capture"] == nil && movements["reserve"] == 100 && movements["release"] == 100, "\(movements)")
        let account = try await stage.account()
        #expect(account.captures == 0 && account.balanced && account.balance == account.credited, "\(account)")
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
        try await expectMadeAgain(recovery, job: job, stage: stage, provider: "openai", creates: fake.createCount, served: fake.servedImage)
        // One image at 10 credits.
        #expect(try await stage.movements(job: job)["capture"] == 10)
        try await stage.stop([recovery.second])
    }

    /// Sora takes no client reference, but lists the account's videos with what each asked for:
    /// the next attempt finds the video the dead node's create made among those made since that
    /// call went out, and polls it to the end. Exactly one create, one charge.
    @Test func anOpenAISoraVideoInterruptedAfterTheCreateIsFoundInTheListAndCreatedOnce() async throws {
        let fake = try FakeOpenAI()
        fake.servedVideo = try FakeMedia.mp4(seconds: 4)
        fake.videoProgress = .completeAfter(polls: 0)
        fake.holdCreates = true
        // Another video of the account, with another prompt, made meanwhile.
        fake.addVideo(prompt: "Gulls over the harbour")
        let stage = try await ProviderStage(prefix: "reeld-crash-openai-sora", endpoints: [.openAI(fake, sora: true)])
        defer { stage.remove() }
        let job = try await stage.submit(.video, ["prompt": "Waves on a breakwater", "provider": "openai", "duration_seconds": 4])

        let recovery = try await crashDuringCreate(job, stage: stage, creates: { fake.createCount }, release: { fake.holdCreates = false })
        defer { recovery.second.process.killAndReap() }
        #expect(fake.createCount == 1, "creates: \(fake.createCount)")
        #expect(recovery.job.state == "completed", "\(recovery.job)\n\(recovery.second.process.stderrTail())")
        #expect(!fake.requests("GET /v1/videos").isEmpty, "the list was read")
        let made = try #require(fake.videoOrder.last)
        #expect(recovery.generation.state == "completed" && recovery.generation.provider == "openai" && recovery.generation.taskID == made,
                "\(recovery.generation), the video made: \(made)")
        #expect(recovery.second.process.standardError.contains("Found the video an earlier call made in OpenAI's list"))
        try await expectStored(recovery, stage: stage, served: fake.servedVideo)
        try await expectChargedOnce(job: job, stage: stage)
        try await stage.stop([recovery.second])
    }

    /// Kling keeps the generation id as the task's `external_task_id`: the next attempt finds the
    /// task the dead node created and polls it to the end. Exactly one create, one charge.
    @Test func aKlingVideoInterruptedAfterTheCreateIsFoundByItsExternalIDAndCreatedOnce() async throws {
        let fake = try FakeKling(videoBytes: try FakeMedia.mp4(seconds: 5))
        fake.holdCreates = true
        let stage = try await ProviderStage(prefix: "reeld-crash-kling", endpoints: [.kling(fake)])
        defer { stage.remove() }
        let job = try await stage.submit(.video, ["prompt": "A kite over the dunes", "provider": "kling", "duration_seconds": 5])

        let recovery = try await crashDuringCreate(job, stage: stage, creates: { fake.createCount }, release: { fake.holdCreates = false })
        defer { recovery.second.process.killAndReap() }
        #expect(fake.createCount == 1, "creates: \(fake.createCount), requests: \(fake.routes)")
        #expect(recovery.job.state == "completed", "\(recovery.job)\n\(recovery.second.process.stderrTail())")
        let task = try #require(fake.tasks.first)
        #expect(task.externalID == recovery.generation.id.lowercasedText, "the task carries the generation id: \(task.externalID ?? "none")")
        #expect(recovery.generation.state == "completed" && recovery.generation.provider == "kling" && recovery.generation.taskID == task.id,
                "\(recovery.generation), Kling's task \(task.id)")
        #expect(recovery.second.process.standardError.contains("Polling the provider task recorded before this attempt"))
        try await expectStored(recovery, stage: stage, served: fake.videoBytes)
        try await expectChargedOnce(job: job, stage: stage)
        // Five seconds of video at 10 credits a second.
        #expect(try await stage.movements(job: job)["capture"] == 50)
        try await stage.stop([recovery.second])
    }

    /// A Veo video is a long-running operation with no client reference: as with Sora, the job
    /// fails "outcome unknown", uncharged, after one create.
    @Test func aGoogleVeoVideoInterruptedAfterTheCreateFailsAsOutcomeUnknownUncharged() async throws {
        let fake = try FakeGoogle()
        fake.videoMedia = try FakeMedia.mp4(seconds: 4)
        fake.holdCreates = true
        let stage = try await ProviderStage(prefix: "reeld-crash-google-veo", endpoints: [.google(fake)])
        defer { stage.remove() }
        let job = try await stage.submit(.video, ["prompt": "Rain on a tin roof", "provider": "google", "duration_seconds": 4])

        let recovery = try await crashDuringCreate(job, stage: stage, creates: { fake.createCount }, release: { fake.holdCreates = false })
        defer { recovery.second.process.killAndReap() }
        try await expectOutcomeUnknown(recovery, job: job, stage: stage, provider: "google", creates: fake.createCount)
        try await stage.stop([recovery.second])
    }

    /// ElevenLabs answers with the audio itself: speech lost with the node is made again (two
    /// creates, as documented), and charged once.
    @Test func anElevenLabsSpeechInterruptedAfterTheCreateIsMadeAgainAndChargedOnce() async throws {
        let fake = try FakeElevenLabs(speechAudio: try FakeMedia.m4a(seconds: 3))
        fake.holdCreates = true
        let stage = try await ProviderStage(prefix: "reeld-crash-elevenlabs", endpoints: [.elevenLabs(fake)])
        defer { stage.remove() }
        let job = try await stage.submit(.speech, ["text": "The keeper climbs the stairs one last time.", "provider": "elevenlabs"])

        let recovery = try await crashDuringCreate(job, stage: stage, creates: { fake.createCount }, release: { fake.holdCreates = false })
        defer { recovery.second.process.killAndReap() }
        try await expectMadeAgain(recovery, job: job, stage: stage, provider: "elevenlabs", creates: fake.createCount, served: fake.speechAudio)
        try await stage.stop([recovery.second])
    }
}
