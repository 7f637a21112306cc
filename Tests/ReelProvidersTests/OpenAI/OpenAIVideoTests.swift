import Foundation
import ReelCore
import ReelProviderFakes
import ReelProviders
import Testing

@Suite struct OpenAIVideoTests {
    let request = GenerationRequest(kind: .video, prompt: "A calico cat playing a piano", durationSeconds: 7, width: 1280, height: 720, externalID: "gen-5")

    @Test func createPollAndDownload() async throws {
        try await withOpenAI { h in
            let (task, pace) = try pending(try await h.generate(request))
            #expect(task.provider == "openai")
            #expect(pace == .milliseconds(2500))
            let createRequest = try #require(h.fake.requests("POST /v1/videos").first)
            let created = try #require(MultipartParts(createRequest))
            #expect(created.text("seconds") == "8")
            #expect(created.text("size") == "1280x720")
            #expect(created.text("model") == "sora-2")
            h.fake.setVideo(task.id, status: "completed")
            let result = try finished(try await h.provider.poll(task, request: request, context: h.context))
            let file = try #require(result.files.first)
            #expect(file.mimeType == "video/mp4")
            #expect(Array(try Data(contentsOf: file.url)) == FakeOpenAI.videoBytes)
            #expect(result.usage == Usage(unit: "video_seconds", amount: 8))
            #expect(h.fake.requests("GET /v1/videos/\(task.id)/content").count == 1)
        }
    }

    @Test func aVideoThatNeverFinishesStaysPendingAtTheProvidersPace() async throws {
        try await withOpenAI { h in
            let (task, _) = try pending(try await h.generate(request))
            h.fake.setVideo(task.id, status: "in_progress")
            for _ in 0..<3 {
                let (again, pace) = try pending(try await h.provider.poll(task, request: request, context: h.context))
                #expect(again == task)
                #expect(pace == .milliseconds(2500))
            }
            #expect(h.fake.requests("GET /v1/videos/\(task.id)").count == 3)
        }
    }

    @Test func withoutAPaceHeaderTheDefaultIntervalIsUsed() async throws {
        try await withOpenAI({ $0.defaultPollInterval = .seconds(17) }) { h in
            h.fake.script("POST /v1/videos", .json(status: 200, [
                "id": "video_x", "object": "video", "model": "sora-2", "status": "queued", "progress": 0, "seconds": "4", "size": "720x1280", "error": nil,
            ]))
            let (_, pace) = try pending(try await h.generate(request))
            #expect(pace == .seconds(17))
        }
    }

    @Test func aFailedVideoFailsWithTheProvidersReason() async throws {
        try await withOpenAI { h in
            let (task, _) = try pending(try await h.generate(request))
            h.fake.setVideo(task.id, status: "failed", error: ["code": "moderation_blocked", "message": "The video was blocked by our moderation system."])
            let error = try #require(await jobError { try await h.provider.poll(task, request: request, context: h.context) })
            #expect(error.failureClass == .permanent)
            #expect(error.message.contains("blocked by our moderation system"))
        }
    }

    /// Another attempt would create (and bill) a new video: a video that failed with a server
    /// error fails the job instead of being made again.
    @Test func aVideoFailedWithAServerErrorIsNotRetriedIntoANewVideo() async throws {
        try await withOpenAI { h in
            let (task, _) = try pending(try await h.generate(request))
            h.fake.setVideo(task.id, status: "failed", error: ["code": "server_error", "message": "The server had an error while processing your request."])
            let error = try #require(await jobError { try await h.provider.poll(task, request: request, context: h.context) })
            #expect(error.failureClass == .permanent)
            #expect(error.message.contains("server had an error"))
            #expect(error.message.contains("not retried"))
            #expect(error.detail?["code"] == "server_error")
            #expect(h.fake.requests("POST /v1/videos").count == 1)
        }
    }

    @Test func aTruncatedDownloadIsTransientAndLeavesNoFile() async throws {
        try await withOpenAI { h in
            let (task, _) = try pending(try await h.generate(request))
            h.fake.setVideo(task.id, status: "completed")
            h.fake.script("GET /v1/videos/\(task.id)/content", .truncated(declared: 100_000, sent: Array(FakeOpenAI.videoBytes.prefix(40_000))))
            let error = try #require(await jobError { try await h.provider.poll(task, request: request, context: h.context) })
            #expect(error.failureClass == .transient)
            let left = (try? FileManager.default.contentsOfDirectory(atPath: h.context.workDirectory.path)) ?? []
            #expect(left.isEmpty)
        }
    }

    @Test func soraIsOffByDefault() async throws {
        try await withOpenAI({ $0.soraEnabled = false }) { h in
            #expect(!h.provider.capabilities.contains(.video))
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.failureClass == .permanent)
            #expect(h.fake.requests("POST /v1/videos").isEmpty)
        }
        #expect(OpenAISettings(apiKey: "k").soraEnabled == false)
    }

    @Test func deleteRemovesTheVideo() async throws {
        try await withOpenAI { h in
            let (task, _) = try pending(try await h.generate(request))
            try await h.provider.deleteVideo(task, context: h.context)
            #expect(h.fake.requests("DELETE /v1/videos/\(task.id)").count == 1)
            // Gone already: still fine.
            try await h.provider.deleteVideo(task, context: h.context)
        }
    }
}
