import Foundation
import ReelCore
import ReelProviderFakes
import ReelProviders
import Testing

@Suite struct GoogleTextTests {
    static let schema: JSONValue = [
        "type": "object", "properties": ["title": ["type": "string"]], "required": ["title"], "additionalProperties": false,
    ]
    let request = GenerationRequest(kind: .text, prompt: "A storyboard for a science fair", responseSchema: Self.schema, externalID: "gen-1")
    let route = "POST /v1beta/models/gemini-2.5-flash:generateContent"

    @Test func structuredTextSendsTheSchemaAndParsesTheAnswer() async throws {
        try await withGoogle { h in
            h.fake.storyboardText = #"{"title":"Volcano Night"}"#
            let result = try finished(try await h.generate(request))
            #expect(result.json?["title"] == "Volcano Night")
            #expect(result.usage == Usage(unit: "tokens", amount: 100))
            #expect(result.model == "gemini-2.5-flash")
            let sent = try #require(h.fake.requests(route).first)
            #expect(sent.header("x-goog-api-key") == FakeGoogle.key)
            #expect(!sent.target.contains("key="))
            let body = try JSONValue(parsing: sent.body)
            #expect(body["generationConfig"]?["responseMimeType"] == "application/json")
            #expect(body["generationConfig"]?["responseJsonSchema"] == Self.schema)
            #expect(body["contents"]?.arrayValue?.first?["parts"]?.arrayValue?.first?["text"] == "A storyboard for a science fair")
        }
    }

    @Test func plainTextWithASeedComesBackAsAString() async throws {
        try await withGoogle { h in
            let request = GenerationRequest(kind: .text, prompt: "Name the fair", seed: 7_000_000_000, externalID: "gen-9")
            let result = try finished(try await h.generate(request))
            #expect(result.json == "plain words")
            let body = try JSONValue(parsing: try #require(h.fake.requests(route).first).body)
            // An int32 on the wire: 7e9 folded into it, the same way every time.
            #expect(body["generationConfig"] == ["seed": .int(Int64(7_000_000_000 % 2_147_483_648))])
        }
    }

    @Test func aBlockedPromptIsPermanentWithGooglesReason() async throws {
        try await withGoogle { h in
            h.fake.script(route, .json(status: 200, [
                "promptFeedback": ["blockReason": "PROHIBITED_CONTENT",
                                   "safetyRatings": [["category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": true]]],
                "usageMetadata": ["promptTokenCount": 12, "totalTokenCount": 12], "modelVersion": "gemini-2.5-flash",
            ]))
            let seen = try #require(await googleFailure { try await h.generate(request) })
            #expect(seen.error.failureClass == .permanent)
            #expect(seen.error.message.contains("PROHIBITED_CONTENT"))
            #expect(seen.error.message.contains("HARM_CATEGORY_DANGEROUS_CONTENT"))
        }
    }

    @Test func anAnswerCutAtMaxTokensIsPermanent() async throws {
        try await withGoogle { h in
            h.fake.script(route, .json(status: 200, [
                "candidates": [["content": ["role": "model", "parts": [["text": "{\"title\":\"Vol"]]], "finishReason": "MAX_TOKENS", "index": 0]],
            ]))
            let seen = try #require(await googleFailure { try await h.generate(request) })
            #expect(seen.error.failureClass == .permanent)
            #expect(seen.error.message.contains("MAX_TOKENS"))
        }
    }

    @Test func malformedJSONIsTransient() async throws {
        try await withGoogle { h in
            h.fake.script(route, .raw(status: 200, contentType: "application/json", Array(#"{"candidates": [{"content": "#.utf8)))
            let seen = try #require(await googleFailure { try await h.generate(request) })
            #expect(seen.error.failureClass == .transient)
            #expect(seen.error.message.contains("malformed"))
        }
    }

    @Test func aStructuredAnswerThatIsNotJSONIsTransient() async throws {
        try await withGoogle { h in
            h.fake.storyboardText = "Sure! Here is your storyboard:"
            let seen = try #require(await googleFailure { try await h.generate(request) })
            #expect(seen.error.failureClass == .transient)
            #expect(seen.error.message.contains("not valid JSON"))
        }
    }

    @Test func overloadedIsTransientAndNotTaken() async throws {
        try await withGoogle { h in
            h.fake.script(route, .json(status: 503, FakeGoogle.errorBody(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")))
            let seen = try #require(await googleFailure { try await h.generate(request) })
            #expect(seen.error.failureClass == .transient)
            #expect(seen.error.message.contains("The model is overloaded"))
            #expect(seen.notAccepted)
        }
    }

    @Test func aTimeoutIsTransient() async throws {
        try await withGoogle({ $0.textTimeout = .seconds(1) }) { h in
            h.fake.script(route, .stall)
            let seen = try #require(await googleFailure { try await h.generate(request) })
            #expect(seen.error.failureClass == .transient)
            #expect(seen.error.message.contains("timeout"))
            // The request may have reached Google: not marked as certainly not taken.
            #expect(!seen.notAccepted)
        }
    }

    @Test func anUnknownModelIsPermanentWithGooglesWords() async throws {
        try await withGoogle { h in
            var request = request
            request.model = "gemini-9-ultra"
            let seen = try #require(await googleFailure { try await h.generate(request) })
            #expect(seen.error.failureClass == .permanent)
            #expect(seen.error.message.contains("models/gemini-9-ultra is not found"))
        }
    }

    @Test func aModelNameCannotLeaveTheModelsPath() async throws {
        try await withGoogle { h in
            var request = request
            request.model = "../files/x"
            let seen = try #require(await googleFailure { try await h.generate(request) })
            #expect(seen.error.failureClass == .permanent)
            #expect(h.fake.state.value.requests.isEmpty)
        }
    }
}
