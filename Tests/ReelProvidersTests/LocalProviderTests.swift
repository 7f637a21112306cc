import Foundation
import Logging
import ReelCore
import ReelProviders
import ReelRender
import Synchronization
import Testing

/// A clock the test moves by hand, so video tasks fall due without sleeping.
final class ManualClock: Sendable {
    private let current = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
    var now: Date { current.withLock { $0 } }
    func advance(_ seconds: Double) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

struct LocalProviderFixture: ~Copyable {
    let root: URL
    let clock = ManualClock()
    let provider: LocalProvider
    let context: GenerationContext

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("reeld-local-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let clock = self.clock
        provider = LocalProvider(
            tasksDirectory: root.appendingPathComponent("tasks"),
            configuration: .init(videoDelay: .seconds(1), now: { clock.now }))
        context = GenerationContext(workDirectory: root.appendingPathComponent("work"), logger: Logger(label: "test"))
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    func finished(_ outcome: GenerationOutcome) throws -> GenerationResult {
        guard case .finished(let result) = outcome else { throw JobError.permanent("expected a finished outcome") }
        return result
    }
}

@Suite struct LocalProviderTests {
    @Test func storyboardIsDeterministicTemplateWithScenes() async throws {
        let f = try LocalProviderFixture()
        let request = GenerationRequest(kind: .text, prompt: "a lighthouse keeper finds a message in a bottle", externalID: "g-text")
        let a = try f.finished(try await f.provider.generate(request, context: f.context))
        let b = try f.finished(try await f.provider.generate(request, context: f.context))
        let board = try #require(a.json)
        #expect(a.json == b.json)
        #expect(board["generator"]?.stringValue == "reeld-local-template")
        #expect(a.notes.contains("template storyboard, not a language model"))
        #expect(board["music_prompt"]?.stringValue?.isEmpty == false)
        let scenes = try #require(board["scenes"]?.arrayValue)
        #expect((3...4).contains(scenes.count))
        for key in ["index", "title", "description", "start_frame_prompt", "end_frame_prompt", "narration", "duration_seconds"] {
            #expect(scenes.allSatisfy { $0[key] != nil }, "every scene has \(key)")
        }
        #expect(a.usage.unit == "tokens" && a.usage.amount > 0)
    }

    @Test func storyboardRespectsSchemaSceneCount() async throws {
        let f = try LocalProviderFixture()
        let schema: JSONValue = ["type": "object", "properties": ["scenes": ["type": "array", "minItems": 6]]]
        let request = GenerationRequest(kind: .text, prompt: "a storm", responseSchema: schema, durationSeconds: 30, externalID: "g-6")
        let result = try f.finished(try await f.provider.generate(request, context: f.context))
        let scenes = try #require(result.json?["scenes"]?.arrayValue)
        #expect(scenes.count == 6)
        #expect(scenes.first?["duration_seconds"]?.doubleValue == 5)
    }

    @Test func imageIsPNGOfRequestedSizeAndShowsItsReference() async throws {
        let f = try LocalProviderFixture()
        let plain = try f.finished(try await f.provider.generate(
            GenerationRequest(kind: .image, prompt: "harbour at night", width: 320, height: 240, externalID: "g-img"), context: f.context))
        let file = try #require(plain.files.first)
        #expect(file.mimeType == "image/png")
        let facts = try MediaProbe.probe(file.url)
        #expect(facts.videoCodec == "png" && facts.width == 320 && facts.height == 240)

        let white = f.root.appendingPathComponent("white.png")
        try ImageIO.writePNG(RGBImage(width: 64, height: 64, red: 255, green: 255, blue: 255), to: white)
        let referenced = try f.finished(try await f.provider.generate(
            GenerationRequest(kind: .image, prompt: "harbour at night", referenceImages: [white], width: 320, height: 240, externalID: "g-img-ref"),
            context: f.context))
        let without = try ImageIO.read(file.url)
        let with = try ImageIO.read(try #require(referenced.files.first).url)
        // Blending white in brightens every pixel a little.
        #expect(with.pixels.reduce(0) { $0 + Int($1) } > without.pixels.reduce(0) { $0 + Int($1) })
        #expect(with.meanAbsoluteDifference(to: without) > 5)
    }

    @Test func videoIsPendingUntilDueThenFinishedFromFrames() async throws {
        let f = try LocalProviderFixture()
        let start = f.root.appendingPathComponent("start.png")
        let end = f.root.appendingPathComponent("end.png")
        try ImageIO.writePNG(RGBImage(width: 320, height: 180, red: 200, green: 30, blue: 30), to: start)
        try ImageIO.writePNG(RGBImage(width: 320, height: 180, red: 30, green: 30, blue: 200), to: end)
        let request = GenerationRequest(
            kind: .video, prompt: "the door opens", startFrame: start, endFrame: end, durationSeconds: 2, width: 320, height: 180,
            externalID: "gen-42")

        guard case .pending(let task, _) = try await f.provider.generate(request, context: f.context) else {
            Issue.record("video should start pending"); return
        }
        #expect(task.provider == "local")
        guard case .pending(let again, _) = try await f.provider.generate(request, context: f.context) else {
            Issue.record("a repeated generate should find the pending task"); return
        }
        #expect(again == task)
        guard case .pending = try await f.provider.poll(task, request: request, context: f.context) else {
            Issue.record("polling before due should stay pending"); return
        }

        f.clock.advance(1.5)
        let result = try f.finished(try await f.provider.poll(task, request: request, context: f.context))
        let file = try #require(result.files.first)
        #expect(file.mimeType == "video/mp4")
        let facts = try MediaProbe.probe(file.url)
        #expect(facts.videoCodec == "h264" && facts.audioCodec == "aac")
        #expect(abs((facts.durationSeconds ?? 0) - 2) <= 1.0 / 24)
        #expect(result.usage.unit == "video_seconds" && abs(result.usage.amount - 2) <= 1.0 / 24)
        var first: RGBImage?
        var last: RGBImage?
        try VideoFrameReader.forEachFrame(in: file.url) { _, image in
            if first == nil { first = image }
            last = image
        }
        #expect(try #require(first).meanAbsoluteDifference(to: RGBImage(width: 320, height: 180, red: 200, green: 30, blue: 30)) < 6)
        #expect(try #require(last).meanAbsoluteDifference(to: RGBImage(width: 320, height: 180, red: 30, green: 30, blue: 200)) < 6)

        // After the clip exists, the same external id still maps to the same task.
        guard case .pending(let third, _) = try await f.provider.generate(request, context: f.context) else {
            Issue.record("generate should return the recorded task"); return
        }
        #expect(third == task)
    }

    @Test func videoFromPromptAloneMakesAClip() async throws {
        let f = try LocalProviderFixture()
        let request = GenerationRequest(kind: .video, prompt: "clouds over a valley", durationSeconds: 1, width: 256, height: 144, externalID: "gen/7 ü")
        guard case .pending(let task, _) = try await f.provider.generate(request, context: f.context) else {
            Issue.record("video should start pending"); return
        }
        f.clock.advance(2)
        let result = try f.finished(try await f.provider.poll(task, request: request, context: f.context))
        let facts = try MediaProbe.probe(try #require(result.files.first).url)
        #expect(facts.width == 256 && facts.height == 144)
    }

    /// A task the provider has no record of (its tasks directory was emptied) starts again:
    /// the local clip costs nothing, so the job goes on instead of failing.
    @Test func anUnknownVideoTaskStartsAgain() async throws {
        let f = try LocalProviderFixture()
        let request = GenerationRequest(kind: .video, prompt: "x", externalID: "nope")
        let outcome = try await f.provider.poll(ProviderTask(provider: "local", id: "video-missing"), request: request, context: f.context)
        guard case .pending(let task, _) = outcome else { Issue.record("an unknown task starts again, pending"); return }
        #expect(task.id == "video-nope")
        f.clock.advance(2)
        let result = try f.finished(try await f.provider.poll(task, request: request, context: f.context))
        #expect(result.files.count == 1)
    }

    @Test func audioKindsAreAACOfExpectedLength() async throws {
        let f = try LocalProviderFixture()
        let text = String(repeating: "Narration for scene one. ", count: 4)  // 100 characters
        let speech = try f.finished(try await f.provider.generate(GenerationRequest(kind: .speech, prompt: text, voice: "alto", externalID: "s1"), context: f.context))
        let speechFacts = try MediaProbe.probe(try #require(speech.files.first).url)
        #expect(speechFacts.audioCodec == "aac" && speechFacts.audioStream?.sampleRate == 48_000)
        #expect(abs((speechFacts.durationSeconds ?? 0) - (100.0 / 14 + 0.25)) < 0.1)
        #expect(speech.usage == Usage(unit: "characters", amount: 100))

        for kind in [GenerationKind.music, .soundEffect] {
            let result = try f.finished(try await f.provider.generate(
                GenerationRequest(kind: kind, prompt: "whoosh past the camera", durationSeconds: 3, externalID: "a-\(kind.rawValue)"), context: f.context))
            let url = try #require(result.files.first).url
            let facts = try MediaProbe.probe(url)
            #expect(abs((facts.durationSeconds ?? 0) - 3) < 0.1)
            #expect(result.usage.unit == "audio_seconds")
            #expect(try AudioFile.read(url).rms > 0.01)
        }
    }

    @Test func corruptReferenceImageIsPermanentError() async throws {
        let f = try LocalProviderFixture()
        let bad = f.root.appendingPathComponent("bad.png")
        try Data("not a png".utf8).write(to: bad)
        let error = await #expect(throws: JobError.self) {
            try await f.provider.generate(GenerationRequest(kind: .image, prompt: "p", referenceImages: [bad], externalID: "i"), context: f.context)
        }
        #expect(error?.failureClass == .permanent)
        #expect(error?.message.contains("bad.png") == true)
    }
}

/// A picture larger than reeld decodes (4096 × 4096 pixels) is refused before any of it is made.
@Suite struct LocalProviderPictureLimitTests {
    @Test func anImageOverTheLimitIsRefusedBeforeItIsDrawn() async throws {
        let f = try LocalProviderFixture()
        // 8192 × 2100 is 17.2 MP: over 4096 × 4096 (16.8 MP), yet small enough to draw if it were allowed.
        let request = GenerationRequest(kind: .image, prompt: "a wide sea", width: 8192, height: 2100, externalID: "g-huge")
        let error = await #expect(throws: JobError.self) { try await f.provider.generate(request, context: f.context) }
        #expect(error?.failureClass == .permanent)
        #expect(error?.message.contains("8192x2100") == true)
        let work = f.context.workDirectory.path
        #expect((try? FileManager.default.contentsOfDirectory(atPath: work))?.isEmpty ?? true, "an image was written")

        let video = GenerationRequest(kind: .video, prompt: "a wide sea", width: 8192, height: 2100, externalID: "v-huge")
        await #expect(throws: JobError.self) { try await f.provider.generate(video, context: f.context) }
    }
}
