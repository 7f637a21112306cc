import ReelCore
import ReelHTTP

extension OpenAIProvider {
    /// The name OpenAI asks for with a JSON Schema format (`[a-zA-Z0-9_-]`, at most 64).
    static let schemaName = "reeld_output"

    /// Text through the Responses API, or Chat Completions when so configured or when the
    /// server has no Responses API (404, e.g. an OpenAI-compatible server).
    func text(_ request: GenerationRequest, context: GenerationContext) async throws -> GenerationResult {
        let model = request.model ?? settings.textModel
        if settings.textAPI == .responses {
            do {
                return try await responses(request, model: model, context: context)
            } catch let error as JobError where error.detail?["status"] == .int(404) && error.detail?["code"] != .string("model_not_found") {
                context.logger.notice("OpenAI has no Responses API at this base URL; using Chat Completions")
            }
        }
        return try await chatCompletion(request, model: model, context: context)
    }

    private func responses(_ request: GenerationRequest, model: String, context: GenerationContext) async throws -> GenerationResult {
        var body: [String: JSONValue] = ["model": .string(model), "input": [["role": "user", "content": .string(request.prompt)]]]
        if let schema = request.responseSchema {
            body["text"] = ["format": ["type": "json_schema", "name": .string(Self.schemaName), "schema": schema, "strict": true]]
        }
        let http = HTTPRequest.json(url: url("/responses"), body: .object(body), headers: headers, options: options(total: settings.textTimeout))
        let (json, response) = try await exchange(http, context: context)
        let requestID = response.requestID
        let status = json["status"]?.stringValue
        switch status {
        case "completed": break
        case "incomplete":
            let reason = json["incomplete_details"]?["reason"]?.stringValue ?? "no reason given"
            throw JobError.permanent("OpenAI's answer is incomplete: \(reason)", detail: ["provider": "openai", "reason": .string(reason), "request_id": requestID.map(JSONValue.string) ?? .null])
        case "failed":
            throw OpenAIFailure.modelError(json["error"], what: "the text", requestID: requestID)
        default:
            throw OpenAIFailure.malformed("response status \(status ?? "missing")", requestID: requestID)
        }
        // The text lives in the output items' content parts; `output_text` at the top is an SDK convenience.
        var text: String?
        for item in json["output"]?.arrayValue ?? [] where item["type"]?.stringValue == "message" {
            for part in item["content"]?.arrayValue ?? [] {
                switch part["type"]?.stringValue {
                case "refusal":
                    let reason = part["refusal"]?.stringValue ?? "no reason given"
                    throw JobError.permanent("the model refused: \(reason)", detail: ["provider": "openai", "refusal": .string(reason), "request_id": requestID.map(JSONValue.string) ?? .null])
                case "output_text":
                    text = (text ?? "") + (part["text"]?.stringValue ?? "")
                default: break
                }
            }
        }
        guard let text else { throw OpenAIFailure.malformed("no output_text in the response's output", requestID: requestID) }
        let tokens = json["usage"]?["total_tokens"]?.doubleValue ?? 0
        return try result(text: text, schema: request.responseSchema != nil, tokens: tokens, model: json["model"]?.stringValue ?? model, requestID: requestID)
    }

    private func chatCompletion(_ request: GenerationRequest, model: String, context: GenerationContext) async throws -> GenerationResult {
        var body: [String: JSONValue] = ["model": .string(model), "messages": [["role": "user", "content": .string(request.prompt)]]]
        if let schema = request.responseSchema {
            body["response_format"] = ["type": "json_schema", "json_schema": ["name": .string(Self.schemaName), "schema": schema, "strict": true]]
        }
        let http = HTTPRequest.json(url: url("/chat/completions"), body: .object(body), headers: headers, options: options(total: settings.textTimeout))
        let (json, response) = try await exchange(http, context: context)
        let requestID = response.requestID
        guard let choice = json["choices"]?.arrayValue?.first, let message = choice["message"] else {
            throw OpenAIFailure.malformed("no choices", requestID: requestID)
        }
        if let refusal = message["refusal"]?.stringValue {
            throw JobError.permanent("the model refused: \(refusal)", detail: ["provider": "openai", "refusal": .string(refusal), "request_id": requestID.map(JSONValue.string) ?? .null])
        }
        let finish = choice["finish_reason"]?.stringValue
        if finish == "length" || finish == "content_filter" {
            throw JobError.permanent("OpenAI's answer is incomplete: \(finish!)", detail: ["provider": "openai", "reason": .string(finish!), "request_id": requestID.map(JSONValue.string) ?? .null])
        }
        guard let text = message["content"]?.stringValue else { throw OpenAIFailure.malformed("no message content", requestID: requestID) }
        let tokens = json["usage"]?["total_tokens"]?.doubleValue ?? 0
        return try result(text: text, schema: request.responseSchema != nil, tokens: tokens, model: json["model"]?.stringValue ?? model, requestID: requestID)
    }

    private func result(text: String, schema: Bool, tokens: Double, model: String, requestID: String?) throws -> GenerationResult {
        let value: JSONValue
        if schema {
            guard let parsed = try? JSONValue(parsing: Array(text.utf8)) else {
                throw OpenAIFailure.malformed("the structured answer is not valid JSON", requestID: requestID)
            }
            value = parsed
        } else {
            value = .string(text)
        }
        return GenerationResult(json: value, usage: Usage(unit: "tokens", amount: tokens), model: model)
    }
}
