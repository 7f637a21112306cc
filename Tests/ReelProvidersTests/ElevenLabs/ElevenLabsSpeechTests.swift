import Foundation
import ReelCore
import ReelProviderFakes
import ReelProviders
import Testing

@Suite struct ElevenLabsSpeechTests {
    let request = GenerationRequest(kind: .speech, prompt: "Welcome to the fair.", seed: 0x1_0000_0005, externalID: "gen-speech-1")

    @Test func speechWithTimestampsWritesTheAudioAndKeepsTheAlignment() async throws {
        try await withElevenLabs { h in
            let result = try await h.generate(request)
            let sent = try #require(h.fake.requests("POST /v1/text-to-speech/{voice_id}/with-timestamps").first)
            #expect(sent.path == "/v1/text-to-speech/JBFqnCBsd6RMkjVDRZzb/with-timestamps")
            #expect(queryValue(sent.target, "output_format") == "mp3_44100_128")
            #expect(sent.header("xi-api-key") == FakeElevenLabs.key)
            let body = try h.body("POST /v1/text-to-speech/{voice_id}/with-timestamps")
            #expect(body["text"] == "Welcome to the fair.")
            #expect(body["model_id"] == "eleven_multilingual_v2")
            #expect(body["seed"] == 5)  // within the API's 32-bit range
            let file = try #require(result.files.first)
            #expect(file.mimeType == "audio/mpeg")
            #expect(file.url.pathExtension == "mp3")
            #expect(Array(try Data(contentsOf: file.url)) == h.fake.speechAudio)
            let alignment = try #require(result.json?["alignment"])
            #expect(alignment["characters"]?.arrayValue?.count == request.prompt.count)
            #expect(alignment["character_end_times_seconds"]?.arrayValue?.count == request.prompt.count)
            #expect(result.json?["normalized_alignment"]?["characters"]?.arrayValue?.first == "W")
            #expect(result.usage == Usage(unit: "characters", amount: Double(request.prompt.count)))
            #expect(result.model == "eleven_multilingual_v2")
        }
    }

    @Test func theBilledCharacterCostIsTheUsageWhenSent() async throws {
        try await withElevenLabs { h in
            h.fake.script("POST /v1/text-to-speech/{voice_id}/with-timestamps", .json(
                status: 200, ["audio_base64": .string(Data(FakeElevenLabs.placeholderAudio).base64EncodedString()), "alignment": nil, "normalized_alignment": nil],
                headers: [("character-cost", "7")]))
            let result = try await h.generate(request)
            #expect(result.usage == Usage(unit: "characters", amount: 7))
            #expect(result.json?["alignment"] == .null)
            #expect(result.notes.contains { $0.contains("no character timings") })
        }
    }

    @Test func aLongTimestampedAnswerIsDecodedPieceByPieceWhateverItsLayout() async throws {
        // 3 MB of audio: its base64 spans many decoding pieces; the audio comes last, with
        // JSON's `\/` escapes and line breaks, as a server may well send it.
        let audio = (0..<3_000_017).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }
        let encoded = Data(audio).base64EncodedString(options: .lineLength76Characters)
            .replacingOccurrences(of: "/", with: "\\/").replacingOccurrences(of: "\r\n", with: "\\n")
        let answer = """
            {"alignment": {"characters": ["H", "i"], "character_start_times_seconds": [0, 0.1], "character_end_times_seconds": [0.1, 0.3]},
             "normalized_alignment": null,
             "audio_base64" : "\(encoded)"}
            """
        try await withElevenLabs { h in
            h.fake.script("POST /v1/text-to-speech/{voice_id}/with-timestamps", .raw(status: 200, contentType: "application/json", Array(answer.utf8)))
            let result = try await h.generate(request)
            let file = try #require(result.files.first)
            #expect(try Data(contentsOf: file.url) == Data(audio))
            #expect(result.json?["alignment"]?["character_end_times_seconds"] == [0.1, 0.3])
            #expect(result.json?["normalized_alignment"] == .null)
            // Only the audio is left: the answer's JSON was a step on the way.
            #expect(h.workFiles == [file.url.lastPathComponent])
        }
    }

    @Test func theSDKsSpellingsOfTheAnswerAreAccepted() async throws {
        let answer: JSONValue = [
            "audioBase64": .string(Data(FakeElevenLabs.placeholderAudio).base64EncodedString()),
            "normalizedAlignment": ["characters": ["o", "k"], "characterStartTimesSeconds": [0, 0.2], "characterEndTimesSeconds": [0.2, 0.4]],
        ]
        try await withElevenLabs { h in
            h.fake.script("POST /v1/text-to-speech/{voice_id}/with-timestamps", .json(status: 200, answer))
            let result = try await h.generate(request)
            #expect(Array(try Data(contentsOf: try #require(result.files.first).url)) == FakeElevenLabs.placeholderAudio)
            #expect(result.json?["normalized_alignment"]?["character_start_times_seconds"] == [0, 0.2])
        }
    }

    @Test func aTimestampedAnswerOverItsCapFailsPermanentlyAndLeavesNoFile() async throws {
        try await withElevenLabs({ $0.maxTimestampedBytes = 50_000 }) { h in
            h.fake.speechAudio = [UInt8](repeating: 9, count: 100_000)
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.failureClass == .permanent)
            #expect(error.message.contains("50000"))
            #expect(h.workFiles.isEmpty)
        }
    }

    @Test func aTimestampedAnswerWithoutAudioIsTransientAndLeavesNoFile() async throws {
        try await withElevenLabs { h in
            h.fake.script("POST /v1/text-to-speech/{voice_id}/with-timestamps", .json(status: 200, ["audio_base64": nil, "alignment": nil]))
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.failureClass == .transient)
            #expect(error.message.contains("no audio_base64"))
            #expect(h.workFiles.isEmpty)
        }
    }

    @Test func theJobsVoiceAndModelAreUsed() async throws {
        try await withElevenLabs { h in
            var request = request
            request.voice = "21m00Tcm4TlvDq8ikWAM"
            request.model = "eleven_flash_v2_5"
            let result = try await h.generate(request)
            #expect(h.fake.requests("POST /v1/text-to-speech/{voice_id}/with-timestamps").first?.path == "/v1/text-to-speech/21m00Tcm4TlvDq8ikWAM/with-timestamps")
            #expect(try h.body("POST /v1/text-to-speech/{voice_id}/with-timestamps")["model_id"] == "eleven_flash_v2_5")
            #expect(result.model == "eleven_flash_v2_5")
        }
    }

    @Test func withoutTimestampsTheAudioBytesStreamToTheFile() async throws {
        try await withElevenLabs({ $0.speechTimestamps = false; $0.outputFormat = "wav_44100" }) { h in
            h.fake.speechAudio = Array("RIFF....WAVEfmt ".utf8) + [UInt8](repeating: 3, count: 70_000)
            let result = try await h.generate(request)
            #expect(h.fake.count("POST /v1/text-to-speech/{voice_id}") == 1)
            #expect(h.fake.count("POST /v1/text-to-speech/{voice_id}/with-timestamps") == 0)
            #expect(queryValue(try #require(h.fake.requests("POST /v1/text-to-speech/{voice_id}").first).target, "output_format") == "wav_44100")
            let file = try #require(result.files.first)
            #expect(file.mimeType == "audio/wav")
            #expect(file.url.pathExtension == "wav")
            #expect(Array(try Data(contentsOf: file.url)) == h.fake.speechAudio)
            #expect(result.json?["alignment"] == nil)
            #expect(result.usage == Usage(unit: "characters", amount: Double(request.prompt.count)))
        }
    }

    @Test func aVoiceThatIsNotAnIDIsRefusedBeforeAnyCall() async throws {
        try await withElevenLabs { h in
            var request = request
            request.voice = "../../v1/user"
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.failureClass == .permanent)
            #expect(error.message.contains("args.voice"))
            #expect(h.fake.createCount == 0)
        }
    }

    @Test func anUnknownVoiceFailsWithElevenLabsReason() async throws {
        try await withElevenLabs { h in
            h.fake.voices = ["JBFqnCBsd6RMkjVDRZzb"]
            var request = request
            request.voice = "nosuchvoice123"
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.failureClass == .permanent)
            #expect(error.message.contains("voice_not_found"))
            #expect(error.message.contains("nosuchvoice123"))
        }
    }

    @Test func aTextOverTheModelsLimitFailsPermanentlySayingSo() async throws {
        try await withElevenLabs { h in
            var request = request
            request.model = "eleven_v3"
            request.prompt = String(repeating: "a", count: 3001)
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.failureClass == .permanent)
            #expect(error.message.contains("max_character_limit_exceeded"))
            #expect(error.message.contains("3001"))
        }
    }

    @Test func malformedJSONIsTransientWithAClearReason() async throws {
        try await withElevenLabs { h in
            h.fake.script("POST /v1/text-to-speech/{voice_id}/with-timestamps", .raw(status: 200, contentType: "application/json", Array(#"{"audio_base64": "SUQz"#.utf8)))
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.failureClass == .transient)
            #expect(error.message.contains("malformed"))
            #expect(error.message.contains("not JSON"))
            #expect(h.workFiles.isEmpty)
        }
    }

    @Test func audioThatIsNotBase64IsTransientWithAClearReason() async throws {
        try await withElevenLabs { h in
            h.fake.script("POST /v1/text-to-speech/{voice_id}/with-timestamps", .json(status: 200, ["audio_base64": "%%%%", "alignment": nil]))
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.failureClass == .transient)
            #expect(error.message.contains("not base64"))
            #expect(h.workFiles.isEmpty)
        }
    }
}
