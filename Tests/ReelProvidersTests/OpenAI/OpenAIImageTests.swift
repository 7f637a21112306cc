import Foundation
import ReelCore
import ReelProviderFakes
import ReelProviders
import Testing

@Suite struct OpenAIImageTests {
    @Test func generationDecodesTheImageIntoTheWorkDirectory() async throws {
        try await withOpenAI { h in
            let request = GenerationRequest(kind: .image, prompt: "A wide shot of the fair", width: 1920, height: 1080, externalID: "gen-3")
            let result = try finished(try await h.generate(request))
            let file = try #require(result.files.first)
            #expect(file.url.path.hasPrefix(h.context.workDirectory.path))
            #expect(file.mimeType == "image/png")
            #expect(Array(try Data(contentsOf: file.url)) == FakeOpenAI.imageBytes)
            #expect(result.usage == Usage(unit: "images", amount: 1))
            #expect(result.notes.contains { $0.contains("tokens: 100") })
            let sent = try #require(h.fake.requests("POST /v1/images/generations").first)
            #expect(try JSONValue(parsing: sent.body)["size"] == "1536x1024")
            #expect(try JSONValue(parsing: sent.body)["model"] == "gpt-image-1.5")
        }
    }

    @Test(arguments: [
        (1080, 1920, "1024x1536"), (1024, 1024, "1024x1024"), (1100, 1000, "1024x1024"), (1500, 1000, "1536x1024"), (720, 1080, "1024x1536"),
    ])
    func sizesMapToThoseTheAPIAccepts(width: Int, height: Int, size: String) async throws {
        try await withOpenAI { h in
            _ = try finished(try await h.generate(GenerationRequest(kind: .image, prompt: "x", width: width, height: height, externalID: "gen-s")))
            let sent = try #require(h.fake.requests("POST /v1/images/generations").first)
            #expect(try JSONValue(parsing: sent.body)["size"] == .string(size))
        }
    }

    /// Each model family gets a size it accepts: GPT Image 2 the requested shape in multiples of
    /// 16 within its limits, DALL·E its own fixed sizes.
    @Test(arguments: [
        ("gpt-image-2", 1920, 1080, "1920x1088"), ("gpt-image-2", 1080, 1920, "1088x1920"), ("gpt-image-2", 7680, 4320, "3840x2160"),
        ("gpt-image-2", 6000, 1000, "3840x1280"), ("gpt-image-2", 300, 300, "816x816"), ("gpt-image-1", 1920, 1080, "1536x1024"),
        ("gpt-image-1-mini", 1000, 1000, "1024x1024"), ("dall-e-3", 1920, 1080, "1792x1024"), ("dall-e-2", 500, 400, "512x512"),
    ])
    func sizesFollowTheModel(model: String, width: Int, height: Int, size: String) async throws {
        try await withOpenAI { h in
            let request = GenerationRequest(kind: .image, model: model, prompt: "x", width: width, height: height, externalID: "gen-m")
            _ = try finished(try await h.generate(request))
            let sent = try #require(h.fake.requests("POST /v1/images/generations").first)
            #expect(try JSONValue(parsing: sent.body)["size"] == .string(size))
            #expect(FakeOpenAI.accepts(model: model, size: size))
        }
    }

    @Test func aDallEModelWithoutARequestedSizeSendsNone() async throws {
        try await withOpenAI { h in
            _ = try finished(try await h.generate(GenerationRequest(kind: .image, model: "dall-e-3", prompt: "x", externalID: "gen-d")))
            let sent = try #require(h.fake.requests("POST /v1/images/generations").first)
            #expect(try JSONValue(parsing: sent.body)["size"] == nil)
        }
    }

    @Test func referenceImagesGoToEditsAsMultipart() async throws {
        try await withOpenAI { h in
            let references = FileManager.default.temporaryDirectory.appendingPathComponent("reeld-refs-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: references, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: references) }
            let hero = references.appendingPathComponent("hero.png"), sheet = references.appendingPathComponent("sheet.jpg")
            try Data([1, 2, 3]).write(to: hero)
            try Data([4, 5, 6, 7]).write(to: sheet)
            let request = GenerationRequest(kind: .image, model: "gpt-image-1", prompt: "The same hero at night", referenceImages: [hero, sheet], externalID: "gen-4")
            let result = try finished(try await h.generate(request))
            #expect(Array(try Data(contentsOf: try #require(result.files.first).url)) == FakeOpenAI.imageBytes)
            let sent = try #require(h.fake.requests("POST /v1/images/edits").first)
            let parts = try #require(MultipartParts(sent))
            #expect(parts.files("image[]").map(\.data) == [[1, 2, 3], [4, 5, 6, 7]])
            #expect(parts.text("model") == "gpt-image-1")
            #expect(parts.text("prompt") == "The same hero at night")
            #expect(h.fake.requests("POST /v1/images/generations").isEmpty)
        }
    }
}
