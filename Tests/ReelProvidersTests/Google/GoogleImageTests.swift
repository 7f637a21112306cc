import Foundation
import ReelCore
import ReelProviderFakes
@testable import ReelProviders
import Testing

@Suite struct GoogleImageTests {
    let request = GenerationRequest(kind: .image, prompt: "A hero shot of the fair at dusk", width: 1920, height: 1080, externalID: "gen-2")
    let route = "POST /v1beta/models/gemini-2.5-flash-image:generateContent"

    @Test func anImageIsWrittenFromItsInlineData() async throws {
        try await withGoogle { h in
            let picture = pngBytes + Array(repeating: 42, count: 5000)
            h.fake.imageMedia = picture
            let result = try finished(try await h.generate(request))
            let file = try #require(result.files.first)
            #expect(file.mimeType == "image/png")
            #expect(file.url.pathExtension == "png")
            #expect(Array(try Data(contentsOf: file.url)) == picture)
            #expect(file.url.deletingLastPathComponent().standardizedFileURL.path == h.work.standardizedFileURL.path)
            #expect(result.usage == Usage(unit: "images", amount: 1))
            #expect(result.notes.contains("tokens: 1302"))
            let body = try JSONValue(parsing: try #require(h.fake.requests(route).first).body)
            #expect(body["generationConfig"]?["responseModalities"] == ["TEXT", "IMAGE"])
            #expect(body["generationConfig"]?["imageConfig"]?["aspectRatio"] == "16:9")
            // The 2.5 model takes no size.
            #expect(body["generationConfig"]?["imageConfig"]?["imageSize"] == nil)
        }
    }

    @Test func aJPEGAnswerKeepsItsType() async throws {
        try await withGoogle { h in
            h.fake.imageMedia = jpegBytes
            h.fake.imageMimeType = "image/jpeg"
            let file = try #require(try finished(try await h.generate(request)).files.first)
            #expect(file.mimeType == "image/jpeg")
            #expect(file.url.pathExtension == "jpg")
        }
    }

    @Test func aspectRatiosAndSizesFollowTheRequest() async throws {
        #expect(GoogleProvider.aspectRatio(width: 1080, height: 1920) == "9:16")
        #expect(GoogleProvider.aspectRatio(width: 1024, height: 1024) == "1:1")
        #expect(GoogleProvider.aspectRatio(width: 2520, height: 1080) == "21:9")
        #expect(GoogleProvider.aspectRatio(width: nil, height: 1080) == nil)
        #expect(GoogleProvider.imageSize(model: "gemini-3-pro-image-preview", width: 2048, height: 1152) == "2K")
        #expect(GoogleProvider.imageSize(model: "gemini-3-pro-image-preview", width: 3840, height: 2160) == "4K")
        #expect(GoogleProvider.imageSize(model: "gemini-2.5-flash-image", width: 3840, height: 2160) == nil)
        try await withGoogle { h in
            let request = GenerationRequest(kind: .image, model: "gemini-3-pro-image-preview", prompt: "Wide", width: 3840, height: 2160, externalID: "gen-3")
            _ = try finished(try await h.generate(request))
            let sent = try #require(h.fake.requests("POST /v1beta/models/gemini-3-pro-image-preview:generateContent").first)
            #expect(try JSONValue(parsing: sent.body)["generationConfig"]?["imageConfig"] == ["aspectRatio": "16:9", "imageSize": "4K"])
        }
    }

    @Test func referenceImagesGoAsInlineDataAfterThePrompt() async throws {
        try await withGoogle { h in
            let hero = try h.file("hero.png", pngBytes), sheet = try h.file("sheet.jpg", jpegBytes)
            var request = request
            request.referenceImages = [hero, sheet]
            request.seed = 42
            _ = try finished(try await h.generate(request))
            let body = try JSONValue(parsing: try #require(h.fake.requests(route).first).body)
            #expect(body["generationConfig"]?["seed"] == 42)
            let parts = try #require(body["contents"]?.arrayValue?.first?["parts"]?.arrayValue)
            #expect(parts.count == 3)
            #expect(parts[0]["text"] == "A hero shot of the fair at dusk")
            #expect(parts[1]["inlineData"] == ["mimeType": "image/png", "data": .string(Data(pngBytes).base64EncodedString())])
            #expect(parts[2]["inlineData"] == ["mimeType": "image/jpeg", "data": .string(Data(jpegBytes).base64EncodedString())])
        }
    }

    @Test func anImageBlockedBySafetyIsPermanentWithGooglesReason() async throws {
        try await withGoogle { h in
            h.fake.script(route, .json(status: 200, [
                "candidates": [["finishReason": "IMAGE_SAFETY", "finishMessage": "Unable to show the generated image: it may violate our policies.", "index": 0]],
                "usageMetadata": ["promptTokenCount": 9, "totalTokenCount": 9], "modelVersion": "gemini-2.5-flash-image",
            ]))
            let seen = try #require(await googleFailure { try await h.generate(request) })
            #expect(seen.error.failureClass == .permanent)
            #expect(seen.error.message.contains("IMAGE_SAFETY"))
            #expect(seen.error.message.contains("may violate our policies"))
            #expect(h.outputs.isEmpty)
        }
    }

    @Test func aWordsOnlyAnswerIsPermanentAndSaysTheModelsWords() async throws {
        try await withGoogle { h in
            h.fake.script(route, .json(status: 200, [
                "candidates": [["content": ["role": "model", "parts": [["text": "I can't create images of real people."]]], "finishReason": "STOP", "index": 0]],
            ]))
            let seen = try #require(await googleFailure { try await h.generate(request) })
            #expect(seen.error.failureClass == .permanent)
            #expect(seen.error.message.contains("I can't create images of real people."))
        }
    }

    @Test func theLastImageOfAThinkingAnswerIsTheOne() async throws {
        try await withGoogle { h in
            h.fake.script(route, .json(status: 200, [
                "candidates": [["content": ["role": "model", "parts": [
                    ["inlineData": ["mimeType": "image/png", "data": .string(Data([0x89, 0x50, 0x4E, 0x47, 0]).base64EncodedString())], "thought": true],
                    ["inlineData": ["mimeType": "image/png", "data": .string(Data(pngBytes).base64EncodedString())], "thoughtSignature": "c2ln"],
                ]], "finishReason": "STOP", "index": 0]],
            ]))
            let file = try #require(try finished(try await h.generate(request)).files.first)
            #expect(Array(try Data(contentsOf: file.url)) == pngBytes)
        }
    }
}
