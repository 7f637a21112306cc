import Foundation
import ReelCore
import ReelProviderFakes
@testable import ReelProviders
import Testing

@Suite struct GoogleVideoTests {
    let request = GenerationRequest(kind: .video, prompt: "A calico cat playing a piano", durationSeconds: 7, width: 1280, height: 720, externalID: "gen-5")
    let create = "POST /v1beta/models/veo-3.1-generate-preview:predictLongRunning"

    @Test func createPollAndDownloadThroughTheRedirect() async throws {
        try await withGoogle { h in
            let movie = Array("....ftypisom".utf8) + Array(repeating: 7, count: 300_000)
            h.fake.videoMedia = movie
            let (task, pace) = try pending(try await h.generate(request))
            #expect(task.provider == "google")
            #expect(task.id == "models/veo-3.1-generate-preview/operations/op-1")
            #expect(pace == .seconds(10))
            let body = try JSONValue(parsing: try #require(h.fake.requests(create).first).body)
            #expect(body["instances"]?.arrayValue?.first?["prompt"] == "A calico cat playing a piano")
            #expect(body["parameters"] == ["aspectRatio": "16:9", "durationSeconds": 8, "resolution": "720p"])
            let result = try finished(try await h.poll(task, request))
            let file = try #require(result.files.first)
            #expect(file.mimeType == "video/mp4")
            #expect(Array(try Data(contentsOf: file.url)) == movie)
            #expect(result.usage == Usage(unit: "video_seconds", amount: 8))
            #expect(result.model == "veo-3.1-generate-preview")
            #expect(h.fake.requestCount("GET /v1beta/\(task.id)") == 1)
            let download = try #require(h.fake.requests("GET /v1beta/files/video-1:download").first)
            #expect(download.header("x-goog-api-key") == FakeGoogle.key)
            #expect(h.fake.requestCount("GET /storage/video-1") == 1)
            #expect(h.fake.createCount == 1)
        }
    }

    @Test func framesGoAsBase64BytesAndTheShapeFollowsTheRequest() async throws {
        try await withGoogle { h in
            let start = try h.file("start.png", pngBytes), end = try h.file("end.jpg", jpegBytes)
            let request = GenerationRequest(
                kind: .video, model: "veo-3.1-fast-generate-preview", prompt: "From dawn to dusk", negativePrompt: "cartoon", startFrame: start, endFrame: end,
                durationSeconds: 4, width: 1080, height: 1920, externalID: "gen-6")
            _ = try pending(try await h.generate(request))
            let body = try JSONValue(parsing: try #require(h.fake.requests("POST /v1beta/models/veo-3.1-fast-generate-preview:predictLongRunning").first).body)
            let instance = try #require(body["instances"]?.arrayValue?.first)
            #expect(instance["image"] == ["bytesBase64Encoded": .string(Data(pngBytes).base64EncodedString()), "mimeType": "image/png"])
            #expect(instance["lastFrame"] == ["bytesBase64Encoded": .string(Data(jpegBytes).base64EncodedString()), "mimeType": "image/jpeg"])
            // 1080p only at 8 s: a 4 s portrait clip stays 720p.
            #expect(body["parameters"] == ["aspectRatio": "9:16", "durationSeconds": 4, "resolution": "720p", "negativePrompt": "cartoon"])
        }
        let tall = GenerationRequest(kind: .video, prompt: "p", durationSeconds: 8, width: 1080, height: 1920, externalID: "x")
        #expect(GoogleProvider.videoShape(tall, withReferences: false) == .init(seconds: 8, aspectRatio: "9:16", resolution: "1080p"))
        let short = GenerationRequest(kind: .video, prompt: "p", durationSeconds: 5.2, externalID: "x")
        #expect(GoogleProvider.videoShape(short, withReferences: false).seconds == 6)
        #expect(GoogleProvider.videoShape(short, withReferences: true).seconds == 8)
    }

    @Test func referenceImagesGoAsAssetsAndMakeAnEightSecondClip() async throws {
        try await withGoogle { h in
            var request = request
            request.durationSeconds = 4
            request.referenceImages = try (1...4).map { try h.file("ref-\($0).png", pngBytes + [UInt8($0)]) }
            _ = try pending(try await h.generate(request))
            let body = try JSONValue(parsing: try #require(h.fake.requests(create).first).body)
            let references = try #require(body["instances"]?.arrayValue?.first?["referenceImages"]?.arrayValue)
            // Veo takes three at most; the fourth is left out rather than the call refused.
            #expect(references.count == 3)
            #expect(references.first == [
                "image": ["bytesBase64Encoded": .string(Data(pngBytes + [1]).base64EncodedString()), "mimeType": "image/png"], "referenceType": "asset",
            ])
            #expect(body["parameters"]?["durationSeconds"] == 8)
        }
    }

    @Test func anEndFrameWithoutAStartFrameIsRefusedBeforeAnyCall() async throws {
        try await withGoogle { h in
            var request = request
            request.endFrame = try h.file("end.png", pngBytes)
            let seen = try #require(await googleFailure { try await h.generate(request) })
            #expect(seen.error.failureClass == .permanent)
            #expect(h.fake.createCount == 0)
        }
    }

    @Test func aVideoIsPolledUntilDoneAtTheConfiguredPace() async throws {
        try await withGoogle({ $0.pollInterval = .seconds(17) }) { h in
            h.fake.pollsUntilDone = 3
            let (task, pace) = try pending(try await h.generate(request))
            #expect(pace == .seconds(17))
            for _ in 0..<2 {
                let (again, pace) = try pending(try await h.poll(task, request))
                #expect(again == task)
                #expect(pace == .seconds(17))
            }
            _ = try finished(try await h.poll(task, request))
            #expect(h.fake.requestCount("GET /v1beta/\(task.id)") == 3)
        }
    }

    @Test func aVideoThatNeverFinishesStaysPending() async throws {
        try await withGoogle { h in
            h.fake.videoOutcome = .never
            let (task, _) = try pending(try await h.generate(request))
            for _ in 0..<4 {
                let (again, pace) = try pending(try await h.poll(task, request))
                #expect(again == task)
                #expect(pace == .seconds(10))
            }
            #expect(h.fake.requestCount("GET /v1beta/\(task.id)") == 4)
            #expect(h.fake.requestCount("GET /v1beta/files/video-1:download") == 0)
        }
    }

    @Test func aFailedOperationFailsWithGooglesReason() async throws {
        try await withGoogle { h in
            h.fake.videoOutcome = .fail(code: 3, message: "The prompt could not be submitted: it violates the usage guidelines.")
            let (task, _) = try pending(try await h.generate(request))
            let seen = try #require(await googleFailure { try await h.poll(task, request) })
            #expect(seen.error.failureClass == .permanent)
            #expect(seen.error.message.contains("INVALID_ARGUMENT"))
            #expect(seen.error.message.contains("violates the usage guidelines"))
        }
    }

    @Test func aVideoTakenByTheSafetyFilterIsPermanentWithItsReason() async throws {
        try await withGoogle { h in
            h.fake.videoOutcome = .filtered(reasons: ["We encountered an issue with the audio for your prompt. You have not been charged."])
            let (task, _) = try pending(try await h.generate(request))
            let seen = try #require(await googleFailure { try await h.poll(task, request) })
            #expect(seen.error.failureClass == .permanent)
            #expect(seen.error.message.contains("safety"))
            #expect(seen.error.message.contains("issue with the audio"))
            #expect(h.outputs.isEmpty)
        }
    }

    /// A done operation as Google sends it, with the video at `uri`.
    static func done(_ name: String, uri: String) -> FakeGoogle.Reply {
        .json(status: 200, [
            "name": .string(name), "done": true,
            "response": ["@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
                         "generateVideoResponse": ["generatedSamples": [["video": ["uri": .string(uri)]]]]],
        ])
    }

    @Test func anAPIFileIsFetchedFromTheConfiguredBaseWhateverHostTheURISpells() async throws {
        try await withGoogle { h in
            let (task, _) = try pending(try await h.generate(request))
            h.fake.script("GET /v1beta/\(task.id)", Self.done(task.id, uri: "https://generativelanguage.invalid/v1beta/files/video-1:download?alt=media"))
            let result = try finished(try await h.poll(task, request))
            #expect(Array(try Data(contentsOf: try #require(result.files.first).url)) == FakeGoogle.placeholderVideo)
            let asked = try #require(h.fake.requests("GET /v1beta/files/video-1:download").first)
            #expect(asked.header("x-goog-api-key") == FakeGoogle.key)
            #expect(asked.target.hasSuffix("?alt=media"))
        }
    }

    @Test func aURIOffTheAPIGetsNoKey() async throws {
        try await withGoogle { h in
            let (task, _) = try pending(try await h.generate(request))
            // Another origin for the same server: "localhost" is not the base URL's 127.0.0.1.
            let elsewhere = h.fake.server.baseURL.replacingOccurrences(of: "127.0.0.1", with: "localhost") + "/storage/video-1?sig=fake-signature"
            h.fake.script("GET /v1beta/\(task.id)", Self.done(task.id, uri: elsewhere))
            _ = try finished(try await h.poll(task, request))
            let fetched = try #require(h.fake.requests("GET /storage/video-1").first)
            #expect(fetched.header("x-goog-api-key") == nil)
            #expect(h.fake.requestCount("GET /v1beta/files/video-1:download") == 0)
        }
    }

    @Test func aTruncatedDownloadIsTransientAndLeavesNoFile() async throws {
        try await withGoogle { h in
            let (task, _) = try pending(try await h.generate(request))
            h.fake.script("GET /storage/video-1", .truncated(declared: 100_000, sent: Array(FakeGoogle.placeholderVideo.prefix(40_000))))
            let seen = try #require(await googleFailure { try await h.poll(task, request) })
            #expect(seen.error.failureClass == .transient)
            #expect(h.outputs.isEmpty)
        }
    }

    @Test func aVideoLargerThanTheCapIsRefused() async throws {
        try await withGoogle({ $0.maxVideoBytes = 50_000 }) { h in
            let (task, _) = try pending(try await h.generate(request))
            let seen = try #require(await googleFailure { try await h.poll(task, request) })
            #expect(seen.error.failureClass == .permanent)
            #expect(seen.error.message.contains("50000"))
            #expect(h.outputs.isEmpty)
        }
    }

    @Test func aCreateRefusedWithAnErrorStatusWasNotTaken() async throws {
        try await withGoogle { h in
            h.fake.script(create, .json(status: 503, FakeGoogle.errorBody(503, "UNAVAILABLE", "The service is currently unavailable.")))
            let seen = try #require(await googleFailure { try await h.generate(request) })
            #expect(seen.error.failureClass == .transient)
            #expect(seen.notAccepted)
        }
    }

    @Test func aCreateWhoseAnswerNeverCameMayHaveBeenTaken() async throws {
        try await withGoogle({ $0.videoRequestTimeout = .seconds(1) }) { h in
            h.fake.holdCreates = true
            let seen = try #require(await googleFailure { try await h.generate(request) })
            #expect(seen.error.failureClass == .transient)
            #expect(!seen.notAccepted)
            // Google made the operation: recovery must not start a second one.
            #expect(h.fake.createCount == 1)
            #expect(h.fake.operationNames == ["models/veo-3.1-generate-preview/operations/op-1"])
            #expect(h.provider.recoveryRule(for: .video) == .outcomeUnknown)
        }
    }

    @Test func anOperationNameCannotLeaveTheAPI() async throws {
        try await withGoogle { h in
            let seen = try #require(await googleFailure {
                try await h.poll(ProviderTask(provider: "google", id: "models/veo/operations/../../../etc"), request)
            })
            #expect(seen.error.failureClass == .permanent)
            #expect(h.fake.state.value.requests.isEmpty)
        }
    }

    @Test func anExpiredOperationIsPermanent() async throws {
        try await withGoogle { h in
            let seen = try #require(await googleFailure {
                try await h.poll(ProviderTask(provider: "google", id: "models/veo-3.1-generate-preview/operations/gone"), request)
            })
            #expect(seen.error.failureClass == .permanent)
            #expect(seen.error.message.contains("not found"))
            #expect(!seen.notAccepted)
        }
    }
}
