import ReelCore
import ReelHTTP

extension GoogleProvider {
    /// Text through `generateContent`; with a JSON Schema the model is asked for JSON matching
    /// it (`responseMimeType` and `responseJsonSchema`, the schema as given) and the answer is
    /// parsed. Usage is Google's `usageMetadata.totalTokenCount`.
    func text(_ request: GenerationRequest, context: GenerationContext) async throws -> GenerationResult {
        let model = request.model ?? settings.textModel
        var body: [String: JSONValue] = ["contents": [["role": "user", "parts": [["text": .string(request.prompt)]]]]]
        var config: [String: JSONValue] = [:]
        if let schema = request.responseSchema {
            config["responseMimeType"] = "application/json"
            config["responseJsonSchema"] = schema
        }
        if let seed = Self.seed(request.seed) { config["seed"] = seed }
        if !config.isEmpty { body["generationConfig"] = .object(config) }
        let http = HTTPRequest.json(url: try modelURL(model, "generateContent"), body: .object(body), headers: headers, options: options(total: settings.textTimeout))
        let (json, response) = try await exchange(http, creates: true, context: context)
        let answer = try GoogleContentAnswer(json, what: "the text", requestID: response.requestID)
        let id = response.requestID ?? answer.responseID
        if answer.finishReason == "MAX_TOKENS" {
            throw JobError.permanent(
                "Google's answer is incomplete: MAX_TOKENS", detail: ["provider": "google", "reason": "MAX_TOKENS", "request_id": id.map(JSONValue.string) ?? .null])
        }
        guard let text = answer.text else {
            let reason = answer.finishReason ?? "no finish reason"
            throw JobError.permanent(
                "Google gave no text (\(reason))" + (answer.finishMessage.map { ": \($0)" } ?? ""),
                detail: ["provider": "google", "reason": .string(reason), "request_id": id.map(JSONValue.string) ?? .null])
        }
        let value: JSONValue
        if request.responseSchema != nil {
            guard let parsed = try? JSONValue(parsing: Array(text.utf8)) else {
                throw GoogleFailure.malformed("the structured answer is not valid JSON", requestID: id)
            }
            value = parsed
        } else {
            value = .string(text)
        }
        return GenerationResult(json: value, usage: Usage(unit: "tokens", amount: answer.totalTokens ?? 0), model: answer.model ?? model)
    }
}
