import Foundation
import ReelCore
import ReelProviderFakes
import Testing

@testable import ReelProviders

@Suite struct KlingImageTests {
    let request = GenerationRequest(kind: .image, prompt: "A hero shot of the fair", negativePrompt: "text", width: 1600, height: 900, externalID: "gen-img-1")

    @Test func anImageIsCreatedPolledAndDownloaded() async throws {
        try await withKling { h in
            let (task, pace) = try pending(try await h.generate(request))
            #expect(pace == .seconds(15))
            let body = try h.body("POST /v1/images/generations")
            #expect(body["model_name"] == "kling-v2-1")
            #expect(body["aspect_ratio"] == "16:9")
            #expect(body["n"] == 1)
            #expect(body["negative_prompt"] == "text")
            #expect(body["external_task_id"] == "gen-img-1")
            let result = try finished(try await h.poll(task, request))
            let file = try #require(result.files.first)
            #expect(file.mimeType == "image/png")
            #expect(file.url.pathExtension == "png")
            #expect(Array(try Data(contentsOf: file.url)) == FakeKling.defaultImageBytes)
            #expect(result.usage == Usage(unit: "images", amount: 1))
            #expect(h.fake.requestCount("GET /v1/images/generations/\(task.id)") == 1)
        }
    }

    @Test func aReferenceImageGoesAsImageWithoutTheNegativePrompt() async throws {
        try await withKling { h in
            var request = self.request
            request.referenceImages = [try h.imageFile("hero.png")]
            request.width = 1000
            request.height = 1330
            _ = try pending(try await h.generate(request))
            let body = try h.body("POST /v1/images/generations")
            #expect(body["image"] == .string(Data(FakeKling.defaultImageBytes).base64EncodedString()))
            #expect(body["negative_prompt"] == nil)
            #expect(body["aspect_ratio"] == "3:4")
        }
    }

    @Test func kindsKlingDoesNotMakeFailPermanentlyWithoutACall() async throws {
        try await withKling { h in
            let error = try #require(await jobError { try await h.generate(GenerationRequest(kind: .speech, prompt: "hello", externalID: "gen-s")) })
            #expect(error.failureClass == .permanent)
            #expect(h.fake.routes.isEmpty)
        }
    }
}
