import Foundation
import ReelCore
import ReelProviderFakes
import ReelProviders
import Testing

let storyboardSchema: JSONValue = [
    "type": "object", "properties": ["title": ["type": "string"]], "required": ["title"], "additionalProperties": false,
]

@Suite struct OpenAITextTests {
    let request = GenerationRequest(kind: .text, prompt: "A storyboard for a science fair", responseSchema: storyboardSchema, externalID: "gen-1")

    @Test func structuredTextThroughTheResponsesAPI() async throws {
        try await withOpenAI { h in
            let result = try finished(try await h.generate(request))
            #expect(result.json?["title"] == "The Fair")
            #expect(result.usage == Usage(unit: "tokens", amount: 123))
            let sent = try #require(h.fake.requests("POST /v1/responses").first)
            let body = try JSONValue(parsing: sent.body)
            #expect(body["text"]?["format"]?["type"] == "json_schema")
            #expect(body["text"]?["format"]?["schema"] == storyboardSchema)
            #expect(body["text"]?["format"]?["strict"] == true)
            #expect(body["model"] == "gpt-4.1")
        }
    }

    @Test func refusalIsPermanentWithTheReason() async throws {
        try await withOpenAI { h in
            h.fake.script("POST /v1/responses", .json(status: 200, [
                "id": "resp_2", "object": "response", "status": "completed", "model": "gpt-4.1",
                "output": [["type": "message", "role": "assistant", "content": [["type": "refusal", "refusal": "I can't help with that storyboard."]]]],
            ]))
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.failureClass == .permanent)
            #expect(error.message.contains("I can't help with that storyboard."))
        }
    }

    @Test func incompleteNamesTheReason() async throws {
        try await withOpenAI { h in
            h.fake.script("POST /v1/responses", .json(status: 200, [
                "id": "resp_3", "object": "response", "status": "incomplete", "model": "gpt-4.1",
                "incomplete_details": ["reason": "max_output_tokens"],
                "output": [["type": "message", "role": "assistant", "content": [["type": "output_text", "text": "{\"title\":\"The F"]]]],
            ]))
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.message.contains("max_output_tokens"))
        }
    }

    @Test func fallsBackToChatCompletionsWhenThereIsNoResponsesAPI() async throws {
        try await withOpenAI { h in
            h.fake.script("POST /v1/responses", .json(status: 404, FakeOpenAI.errorBody("Invalid URL (POST /v1/responses)", type: "invalid_request_error", code: nil)))
            let result = try finished(try await h.generate(request))
            #expect(result.json?["title"] == "From Chat")
            let sent = try #require(h.fake.requests("POST /v1/chat/completions").first)
            #expect(try JSONValue(parsing: sent.body)["response_format"]?["json_schema"]?["schema"] == storyboardSchema)
        }
    }

    @Test func anUnknownModelIsPermanentNotAFallback() async throws {
        try await withOpenAI { h in
            h.fake.script("POST /v1/responses", .json(status: 404, FakeOpenAI.errorBody("The model `gpt-9` does not exist or you do not have access to it.", type: "invalid_request_error", code: "model_not_found")))
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.failureClass == .permanent)
            #expect(error.message.contains("gpt-9"))
            #expect(h.fake.requests("POST /v1/chat/completions").isEmpty)
        }
    }

    @Test func chatCompletionsBySetting() async throws {
        try await withOpenAI({ $0.textAPI = .chatCompletions }) { h in
            let result = try finished(try await h.generate(request))
            #expect(result.json?["title"] == "From Chat")
            #expect(result.usage == Usage(unit: "tokens", amount: 29))
            #expect(h.fake.requests("POST /v1/responses").isEmpty)
        }
    }

    @Test func malformedBodyIsTransientWithAClearReason() async throws {
        try await withOpenAI { h in
            h.fake.script("POST /v1/responses", .raw(status: 200, contentType: "application/json", Array("{\"id\": \"resp_4\", \"output\": [".utf8)))
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.failureClass == .transient)
            #expect(error.message.contains("malformed"))
        }
    }

    @Test func serverErrorIsTransient() async throws {
        try await withOpenAI { h in
            h.fake.script("POST /v1/responses", .json(status: 503, FakeOpenAI.errorBody("The server is overloaded or not ready yet.", type: "server_error", code: nil)))
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.failureClass == .transient)
        }
    }

    @Test func timeoutIsTransient() async throws {
        try await withOpenAI({ $0.textTimeout = .seconds(1) }) { h in
            h.fake.script("POST /v1/responses", .stall)
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.failureClass == .transient)
            #expect(error.message.contains("timeout"))
        }
    }
}
