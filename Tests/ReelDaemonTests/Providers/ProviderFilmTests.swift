import Foundation
import ReelCore
import ReelProviderFakes
import ReelTestSupport
import Testing

@testable import ReelRender

extension ProcessTests.ProviderFilmTests {
    /// Two scenes of five seconds: a length every video provider makes as asked.
    static let sceneSeconds = [5.0, 5.0]

    static var storyboard: JSONValue {
        [
            "title": "Harbour Light", "logline": "A lighthouse keeper's last night on duty.", "music_prompt": "slow strings",
            "scenes": .array(sceneSeconds.enumerated().map { n, seconds in
                [
                    "title": .string("Scene \(n + 1)"), "description": .string("The harbour, shot \(n + 1)"),
                    "narration": .string("The keeper climbs the stairs for the \(n == 0 ? "first" : "last") time."),
                    "start_frame_prompt": .string("Harbour at dusk, shot \(n + 1), start"),
                    "end_frame_prompt": .string("Harbour at dusk, shot \(n + 1), end"),
                    "duration_seconds": .double(seconds),
                ]
            }),
        ]
    }

    /// `workflow.run` with no provider named, on a node with OpenAI, Google, Kling and ElevenLabs
    /// enabled and `local` off: the routing tables send each kind to a fake (the storyboard to
    /// Google, images to OpenAI, clips to Kling, voice, music and effects to ElevenLabs), every
    /// fake serves real media made here, and the film exported at the end is made of it.
    @Test func aWorkflowRunThroughEveryRemoteProviderEndsInAFilmMadeOfTheirMedia() async throws {
        let google = try FakeGoogle()
        google.storyboardText = Self.storyboard.jsonText
        let openAI = try FakeOpenAI()
        openAI.servedImage = try FakeMedia.png(width: 320, height: 180)
        let kling = try FakeKling(videoBytes: try FakeMedia.mp4(seconds: 5, width: 320, height: 180))
        let elevenLabs = try FakeElevenLabs(
            speechAudio: try FakeMedia.m4a(seconds: 4, seed: 1), soundEffectAudio: try FakeMedia.m4a(seconds: 2, seed: 2),
            musicAudio: try FakeMedia.m4a(seconds: 10, seed: 3))

        let cast: [String: String] = [
            "text.storyboard": "google", "image.generate": "openai", "video.generate": "kling",
            "audio.speech": "elevenlabs", "audio.music": "elevenlabs", "audio.sfx": "elevenlabs",
        ]
        let routing = cast.sorted { $0.key < $1.key }.map { "[routing.\"\($0.key)\"]\nproviders = [\"\($0.value)\"]\n" }.joined()
        let stage = try await ProviderStage(
            prefix: "reeld-film", endpoints: [.openAI(openAI), .google(google), .kling(kling), .elevenLabs(elevenLabs)], extraConfig: routing)
        defer { stage.remove() }
        let node = try stage.startNode("film")
        defer { node.process.killAndReap() }

        let run = try await stage.submit(.workflowRun, ["brief": "A lighthouse keeper's last night", "scenes": .int(Int64(Self.sceneSeconds.count))])
        let ended = try await stage.waitUntilEnded(run, nodes: [node], timeout: .seconds(600))
        try #require(ended.state == "completed", "\(ended)\n\(node.process.stderrTail())")

        // Every generation ran at the provider its kind is routed to, and completed.
        let generations = try await stage.generations()
        let kinds: [String: String] = [
            "text": "text.storyboard", "image": "image.generate", "video": "video.generate",
            "speech": "audio.speech", "music": "audio.music", "sound_effect": "audio.sfx",
        ]
        #expect(generations.count == 1 + 1 + 2 * Self.sceneSeconds.count + Self.sceneSeconds.count + 3, "\(generations)")
        for generation in generations {
            let kind = kinds[generation.kind] ?? generation.kind
            #expect(generation.provider == cast[kind] && generation.state == "completed", "\(generation)")
        }
        #expect(Set(generations.map(\.provider)) == ["openai", "google", "kling", "elevenlabs"])
        // One create per generation: nothing was made twice.
        let scenes = Self.sceneSeconds.count
        #expect(google.createCount == 1 && openAI.createCount == 1 + 2 * scenes && kling.createCount == scenes && elevenLabs.createCount == 3,
                "creates: google \(google.createCount), openai \(openAI.createCount), kling \(kling.createCount), elevenlabs \(elevenLabs.createCount)")
        // Each stored asset is what its provider served.
        let served: [String: [UInt8]] = [
            "image": openAI.servedImage, "video": kling.videoBytes,
            "speech": elevenLabs.speechAudio, "music": elevenLabs.musicAudio, "sound_effect": elevenLabs.soundEffectAudio,
        ]
        for generation in generations where generation.kind != "text" {
            let asset = try #require(generation.assetID, "\(generation)")
            let size = try await stage.database.query("select size_bytes from public.assets where id = $1::uuid", [asset])[0].int("size_bytes")
            #expect(size == served[generation.kind]?.count, "\(generation): \(size) bytes stored")
        }
        // The project's scenes are the storyboard Google wrote.
        let scenesRows = try await stage.database.query(
            "select title, duration_seconds from public.scenes where project_id = $1::uuid order by index", [stage.project])
        #expect(try scenesRows.map { try $0.string("title") } == Self.sceneSeconds.indices.map { "Scene \($0 + 1)" })
        #expect(try scenesRows.map { try $0.double("duration_seconds") } == Self.sceneSeconds)

        // The film: stored, decodable through and through, as long as the storyboard's scenes
        // less the crossfades the timeline puts between them.
        let film = try await stage.filmFile(run: run, node: node)
        let facts = try MediaProbe.probe(film)
        #expect(facts.streams.filter { $0.type == .video }.map(\.codecName) == ["h264"])
        #expect(facts.streams.filter { $0.type == .audio }.map(\.codecName) == ["aac"])
        let fps = try #require(facts.videoStream?.framesPerSecond)
        let decoded = try DecodeCheck.frames(of: film, threads: 1, control: RenderControl())
        #expect(decoded.damaged == 0 && decoded.frames > 0, "\(decoded)")
        let overlap = try await stage.timelineOverlap(node: node)
        let expected = Self.sceneSeconds.reduce(0, +) - overlap
        let duration = try #require(facts.durationSeconds)
        #expect(abs(duration - expected) <= 1 / fps, "film \(duration) s, scenes \(Self.sceneSeconds) less \(overlap) s of crossfades")
        #expect(abs(Double(decoded.frames) - expected * fps) <= 1, "\(decoded.frames) frames at \(fps) fps for \(expected) s")

        // Every job settled: charged what it used, the rest released; the balance is the ledger's.
        let account = try await stage.account()
        #expect(account.balanced && account.captured > 0, "\(account)")
        try await stage.stop([node])
    }
}
