import Foundation
import Logging
import ReelCore
import ReelHTTP
import ReelProviderFakes
import ReelProviders
import Testing

/// Sound effects and music: bytes in the answer, streamed to the file.
@Suite struct ElevenLabsSoundTests {
    let effect = GenerationRequest(kind: .soundEffect, prompt: "a door slams in a large hall", durationSeconds: 2, externalID: "gen-sfx-1")
    let music = GenerationRequest(kind: .music, prompt: "gentle piano with warm strings", durationSeconds: 42, externalID: "gen-music-1")

    @Test func aSoundEffectIsMadeWithItsLengthAndStreamedToTheFile() async throws {
        try await withElevenLabs { h in
            h.fake.soundEffectAudio = [UInt8](repeating: 0x55, count: 300_000)
            let result = try await h.generate(effect)
            let body = try h.body("POST /v1/sound-generation")
            #expect(body["text"] == "a door slams in a large hall")
            #expect(body["duration_seconds"]?.doubleValue == 2)
            #expect(body["model_id"] == "eleven_text_to_sound_v2")
            #expect(body["prompt_influence"]?.doubleValue == 0.3)
            #expect(queryValue(try #require(h.fake.requests("POST /v1/sound-generation").first).target, "output_format") == "mp3_44100_128")
            let file = try #require(result.files.first)
            #expect(Array(try Data(contentsOf: file.url)) == h.fake.soundEffectAudio)
            #expect(file.mimeType == "audio/mpeg")
            #expect(result.usage == Usage(unit: "audio_seconds", amount: 2))
            #expect(result.notes.contains("ElevenLabs charged 80 credits"))
        }
    }

    @Test func aSoundEffectWithoutALengthLeavesItToElevenLabs() async throws {
        try await withElevenLabs { h in
            var effect = effect
            effect.durationSeconds = nil
            let result = try await h.generate(effect)
            #expect(try h.body("POST /v1/sound-generation")["duration_seconds"] == nil)
            #expect(result.notes.contains("length chosen by ElevenLabs"))
        }
    }

    @Test(arguments: [0.2, 30.5, 45])
    func aSoundEffectLengthOutsideTheAPIsRangeIsRefusedBeforeAnyCall(seconds: Double) async throws {
        try await withElevenLabs { h in
            var effect = effect
            effect.durationSeconds = seconds
            let error = try #require(await jobError { try await h.generate(effect) })
            #expect(error.failureClass == .permanent)
            #expect(error.message.contains("args.duration_seconds"))
            #expect(error.message.contains("0.5 to 30"))
            #expect(h.fake.createCount == 0)
        }
    }

    @Test func theFakeRefusesAnOutOfRangeLengthAsTheAPIDoes() async throws {
        let fake = try FakeElevenLabs()
        try await HTTPClient.withRunningClient(logger: Logger(label: "test")) { client in
            var headers = HTTPHeaders()
            headers.set("xi-api-key", FakeElevenLabs.key)
            let request = HTTPRequest.json(url: fake.baseURL + "/v1/sound-generation", body: ["text": "boom", "duration_seconds": 31], headers: headers)
            do throws(HTTPError) {
                _ = try await client.execute(request)
                Issue.record("a 31 s effect was accepted")
            } catch {
                #expect(error.status == 422)
                #expect(error.description.contains("less than or equal to 30"))
            }
        }
    }

    @Test func musicIsComposedAtTheAskedLength() async throws {
        try await withElevenLabs { h in
            h.fake.musicAudio = [UInt8](repeating: 0x33, count: 1_500_000)
            let result = try await h.generate(music)
            let body = try h.body("POST /v1/music")
            #expect(body["prompt"] == "gentle piano with warm strings")
            #expect(body["music_length_ms"] == 42000)
            #expect(body["model_id"] == "music_v1")
            let file = try #require(result.files.first)
            #expect(try Data(contentsOf: file.url).count == 1_500_000)
            #expect(result.usage == Usage(unit: "audio_seconds", amount: 42))
            #expect(result.notes.isEmpty)
            #expect(h.logs.lines.withLock { $0 }.contains { $0.contains("elevenlabs.song_id") && $0.contains("song_") })
        }
    }

    @Test(arguments: [(4.0, 10_000), (900.0, 300_000)])
    func musicOutsideTheAPIsRangeIsBroughtIntoItWithANote(wanted: Double, sentMilliseconds: Int) async throws {
        try await withElevenLabs { h in
            var music = music
            music.durationSeconds = wanted
            let result = try await h.generate(music)
            #expect(try h.body("POST /v1/music")["music_length_ms"] == .int(Int64(sentMilliseconds)))
            #expect(result.usage == Usage(unit: "audio_seconds", amount: Double(sentMilliseconds) / 1000))
            #expect(result.notes.contains { $0.contains("ElevenLabs' range") })
        }
    }

    @Test func aTruncatedAnswerIsTransientAndLeavesNoFile() async throws {
        try await withElevenLabs { h in
            h.fake.script("POST /v1/music", .truncated(declared: 200_000, sent: [UInt8](repeating: 1, count: 50_000)))
            let error = try #require(await jobError { try await h.generate(music) })
            #expect(error.failureClass == .transient)
            #expect(h.workFiles.isEmpty)
        }
    }

    @Test func anAnswerOverTheSizeCapFailsPermanentlyAndLeavesNoFile() async throws {
        try await withElevenLabs({ $0.maxAudioBytes = 100_000 }) { h in
            h.fake.musicAudio = [UInt8](repeating: 2, count: 400_000)
            let error = try #require(await jobError { try await h.generate(music) })
            #expect(error.failureClass == .permanent)
            #expect(error.message.contains("100000"))
            #expect(h.workFiles.isEmpty)
        }
    }

    @Test func aBlockedMusicPromptFailsPermanentlyWithTheReasonAndTheSuggestion() async throws {
        try await withElevenLabs { h in
            h.fake.script("POST /v1/music", .json(status: 400, FakeElevenLabs.errorBody(
                "Your prompt appears to have violated our Terms of Service. Please try again with a different prompt.", status: "bad_prompt",
                extra: ["data": ["prompt_suggestion": "A cinematic orchestral piece with an emotional piano intro"]])))
            let error = try #require(await jobError { try await h.generate(music) })
            #expect(error.failureClass == .permanent)
            #expect(error.message.contains("violated our Terms of Service"))
            #expect(error.message.contains("A cinematic orchestral piece"))
            #expect(error.detail?["code"] == "bad_prompt")
        }
    }
}
