import Foundation
import ReelCore
import ReelProviderFakes
import Testing

@testable import ReelProviders

@Suite struct KlingVideoTests {
    let request = GenerationRequest(
        kind: .video, prompt: "A calico cat playing a piano", negativePrompt: "blurry", durationSeconds: 9, width: 720, height: 1280,
        externalID: "3f1c9a52-7d1e-4c55-9a9e-2b8f3c1d0e77")

    @Test func textToVideoIsCreatedPolledAndDownloaded() async throws {
        try await withKling { h in
            let (task, pace) = try pending(try await h.generate(request))
            #expect(task.provider == "kling")
            #expect(pace == .seconds(15))
            let body = try h.body("POST /v1/videos/text2video")
            #expect(body["model_name"] == "kling-v2-6")
            #expect(body["prompt"] == "A calico cat playing a piano")
            #expect(body["negative_prompt"] == "blurry")
            #expect(body["duration"] == "10")
            #expect(body["aspect_ratio"] == "9:16")
            #expect(body["mode"] == "std")
            #expect(body["external_task_id"] == .string(request.externalID))
            #expect(body["cfg_scale"] == nil)
            let result = try finished(try await h.poll(task, request))
            let file = try #require(result.files.first)
            #expect(file.mimeType == "video/mp4")
            #expect(Array(try Data(contentsOf: file.url)) == FakeKling.defaultVideoBytes)
            #expect(file.url.path.hasPrefix(h.context.workDirectory.path))
            #expect(result.usage == Usage(unit: "video_seconds", amount: 10))
            #expect(result.model == "kling-v2-6")
            #expect(result.notes.contains("Kling units deducted: 1"))
            #expect(h.fake.requestCount("GET /v1/videos/text2video/\(task.id)") == 1)
            // The CDN gets no token.
            let download = try #require(h.fake.requests("GET /cdn/\(task.id)/0.mp4").first)
            #expect(download.header("authorization") == nil)
        }
    }

    @Test func startAndEndFramesGoToImageToVideoAsRawBase64() async throws {
        try await withKling { h in
            let start = try h.imageFile("start.png")
            let end = try h.imageFile("end.png", bytes: Array(FakeKling.defaultImageBytes.reversed()))
            var request = self.request
            request.startFrame = start
            request.endFrame = end
            request.durationSeconds = 4
            let (task, _) = try pending(try await h.generate(request))
            let body = try h.body("POST /v1/videos/image2video")
            #expect(body["image"] == .string(Data(FakeKling.defaultImageBytes).base64EncodedString()))
            #expect(body["image_tail"] == .string(Data(FakeKling.defaultImageBytes.reversed()).base64EncodedString()))
            #expect(body["aspect_ratio"] == nil)
            #expect(body["duration"] == "5")
            #expect(h.fake.requests("POST /v1/videos/text2video").isEmpty)
            let result = try finished(try await h.poll(task, request))
            #expect(result.files.count == 1)
            #expect(h.fake.requestCount("GET /v1/videos/image2video/\(task.id)") == 1)
        }
    }

    @Test func aURLFrameIsSentAsTheURL() async throws {
        try await withKling { h in
            var request = self.request
            request.startFrame = URL(string: "https://example.com/start.png")
            _ = try pending(try await h.generate(request))
            #expect(try h.body("POST /v1/videos/image2video")["image"] == "https://example.com/start.png")
        }
    }

    @Test func klingO1GoesToOmniVideoWithTheFramesInImageList() async throws {
        try await withKling { h in
            var request = self.request
            request.model = "kling-video-o1"
            request.startFrame = try h.imageFile("start.png")
            request.durationSeconds = 7
            let (task, _) = try pending(try await h.generate(request))
            let body = try h.body("POST /v1/videos/omni-video")
            #expect(body["model_name"] == "kling-video-o1")
            #expect(body["duration"] == "7")
            let images = try #require(body["image_list"]?.arrayValue)
            #expect(images.count == 1)
            #expect(images.first?["type"] == "first_frame")
            #expect(body["negative_prompt"] == nil)
            let result = try finished(try await h.poll(task, request))
            #expect(result.model == "kling-video-o1")
            #expect(result.usage == Usage(unit: "video_seconds", amount: 7))
            #expect(h.fake.requestCount("GET /v1/videos/omni-video/\(task.id)") == 1)
        }
    }

    @Test func klingO1WithoutAFirstFrameSendsAnAspectRatio() async throws {
        try await withKling({ $0.videoModel = "kling-video-o1" }) { h in
            _ = try pending(try await h.generate(request))
            #expect(try h.body("POST /v1/videos/omni-video")["aspect_ratio"] == "9:16")
        }
    }

    @Test func cfgScaleGoesOnlyToModelsThatTakeIt() async throws {
        try await withKling({ $0.cfgScale = 0.7; $0.mode = "pro" }) { h in
            _ = try pending(try await h.generate(request))
            var v1 = request
            v1.model = "kling-v1-6"
            v1.externalID = "gen-v1"
            _ = try pending(try await h.generate(v1))
            #expect(try h.body("POST /v1/videos/text2video", 0)["cfg_scale"] == nil)
            #expect(try h.body("POST /v1/videos/text2video", 0)["mode"] == "pro")
            #expect(try h.body("POST /v1/videos/text2video", 1)["cfg_scale"] == .double(0.7))
        }
    }

    @Test func aTaskThatNeverFinishesStaysPendingAtTheConfiguredPace() async throws {
        try await withKling({ $0.pollInterval = .seconds(23) }) { h in
            h.fake.taskBehaviour = .neverFinish
            let (task, _) = try pending(try await h.generate(request))
            for _ in 0..<3 {
                let (again, pace) = try pending(try await h.poll(task, request))
                #expect(again == task)
                #expect(pace == .seconds(23))
            }
            #expect(h.fake.requestCount("GET /v1/videos/text2video/\(task.id)") == 3)
            #expect(h.leftFiles.isEmpty)
        }
    }

    @Test func aPaceTheServerSendsOnAPendingTaskIsHonoured() async throws {
        try await withKling { h in
            h.fake.taskBehaviour = .succeed(afterPolls: 2)
            h.fake.pollAfter = .seconds(2)
            let (task, created) = try pending(try await h.generate(request))
            #expect(created == .seconds(2))
            let (_, polled) = try pending(try await h.poll(task, request))
            #expect(polled == .seconds(2))
            _ = try finished(try await h.poll(task, request))
        }
    }

    @Test func aTaskCompletesAfterTheSetNumberOfPolls() async throws {
        try await withKling { h in
            h.fake.taskBehaviour = .succeed(afterPolls: 3)
            let (task, _) = try pending(try await h.generate(request))
            _ = try pending(try await h.poll(task, request))
            _ = try pending(try await h.poll(task, request))
            _ = try finished(try await h.poll(task, request))
        }
    }

    @Test func aFailedTaskFailsPermanentlyWithKlingsReason() async throws {
        try await withKling { h in
            h.fake.taskBehaviour = .fail(message: "Failure to pass the risk control system")
            let (task, _) = try pending(try await h.generate(request))
            let error = try #require(await jobError { try await h.poll(task, request) })
            #expect(error.failureClass == .permanent)
            #expect(error.message.contains("Failure to pass the risk control system"))
            #expect(error.detail?["task_id"] == .string(task.id))
        }
    }

    @Test func aTruncatedDownloadIsTransientAndLeavesNoFile() async throws {
        try await withKling { h in
            let (task, _) = try pending(try await h.generate(request))
            h.fake.script("GET /cdn/\(task.id)/0.mp4", .truncated(declared: 100_000, sent: Array(FakeKling.defaultVideoBytes.prefix(30_000))))
            let error = try #require(await jobError { try await h.poll(task, request) })
            #expect(error.failureClass == .transient)
            #expect(h.leftFiles.isEmpty)
            // The next poll downloads it whole.
            let result = try finished(try await h.poll(task, request))
            #expect(Array(try Data(contentsOf: try #require(result.files.first).url)) == FakeKling.defaultVideoBytes)
        }
    }

    @Test func aVideoOverTheSizeCapIsRefusedAndLeavesNoFile() async throws {
        try await withKling({ $0.maxVideoBytes = 1000 }) { h in
            let (task, _) = try pending(try await h.generate(request))
            let error = try #require(await jobError { try await h.poll(task, request) })
            #expect(error.failureClass == .permanent)
            #expect(error.message.contains("1000"))
            #expect(h.leftFiles.isEmpty)
        }
    }

    @Test func theMediaBytesAreSettable() async throws {
        try await withKling { h in
            let bytes = Array("real mp4 bytes would go here".utf8)
            h.fake.videoBytes = bytes
            let (task, _) = try pending(try await h.generate(request))
            let result = try finished(try await h.poll(task, request))
            #expect(Array(try Data(contentsOf: try #require(result.files.first).url)) == bytes)
        }
    }

    @Test func durationsAndRatiosMapToWhatKlingTakes() {
        #expect(KlingProvider.duration(nil, model: "kling-v2-6", endpoint: .text2video) == "5")
        #expect(KlingProvider.duration(7.4, model: "kling-v2-6", endpoint: .text2video) == "5")
        #expect(KlingProvider.duration(8, model: "kling-v2-6", endpoint: .text2video) == "10")
        #expect(KlingProvider.duration(30, model: "kling-v2-6", endpoint: .text2video) == "10")
        #expect(KlingProvider.duration(12, model: "kling-video-o1", endpoint: .omniVideo) == "10")
        #expect(KlingProvider.duration(1, model: "kling-v3", endpoint: .text2video) == "3")
        #expect(KlingProvider.duration(12, model: "kling-v3", endpoint: .text2video) == "12")
        #expect(KlingProvider.videoAspectRatio(width: 1920, height: 1080) == "16:9")
        #expect(KlingProvider.videoAspectRatio(width: 1000, height: 1100) == "1:1")
        #expect(KlingProvider.videoAspectRatio(width: nil, height: nil) == "16:9")
    }
}
