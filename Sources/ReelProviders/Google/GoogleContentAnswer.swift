import ReelCore

/// A `generateContent` answer read the way the Gemini API documents it: the first candidate's
/// parts (thoughts left out), why it finished, and the safety blocks that come as HTTP 200:
/// `promptFeedback.blockReason` with no candidates, or a candidate that finished for a safety
/// reason. Field names are read in camelCase and, leniently, in snake_case.
struct GoogleContentAnswer {
    /// An image (or other inline data) part.
    struct Inline {
        var mimeType: String
        var base64: String
    }

    /// `finishReason`s that mean a filter stopped the answer: the prompt or the output was
    /// judged unsafe, prohibited, on a block list, personal data or recitation.
    static let blockedReasons: Set<String> = [
        "SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION",
        "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION",
    ]

    var text: String?
    var inline: [Inline] = []
    var finishReason: String?
    var finishMessage: String?
    var totalTokens: Double?
    var model: String?
    var responseID: String?

    /// Reads the answer; throws the permanent safety block when there is one.
    init(_ json: JSONValue, what: String, requestID: String?) throws {
        responseID = json["responseId"]?.stringValue ?? json["response_id"]?.stringValue
        model = json["modelVersion"]?.stringValue ?? json["model_version"]?.stringValue
        let usage = json["usageMetadata"] ?? json["usage_metadata"]
        totalTokens = (usage?["totalTokenCount"] ?? usage?["total_token_count"])?.doubleValue
        let id = requestID ?? responseID
        let feedback = json["promptFeedback"] ?? json["prompt_feedback"]
        if let reason = (feedback?["blockReason"] ?? feedback?["block_reason"])?.stringValue {
            let message = (feedback?["blockReasonMessage"] ?? feedback?["block_reason_message"])?.stringValue
            throw GoogleFailure.blocked("the prompt", reason: reason, message: message ?? Self.ratings(feedback), requestID: id)
        }
        guard let candidate = json["candidates"]?.arrayValue?.first else {
            throw GoogleFailure.malformed("no candidates and no block reason", requestID: id)
        }
        finishReason = (candidate["finishReason"] ?? candidate["finish_reason"])?.stringValue
        finishMessage = (candidate["finishMessage"] ?? candidate["finish_message"])?.stringValue
        if let finishReason, Self.blockedReasons.contains(finishReason) {
            throw GoogleFailure.blocked(what, reason: finishReason, message: finishMessage ?? Self.ratings(candidate), requestID: id)
        }
        for part in candidate["content"]?["parts"]?.arrayValue ?? [] where part["thought"]?.boolValue != true {
            if let piece = part["text"]?.stringValue { text = (text ?? "") + piece }
            if let data = part["inlineData"] ?? part["inline_data"], let base64 = data["data"]?.stringValue {
                let type = (data["mimeType"] ?? data["mime_type"])?.stringValue ?? "application/octet-stream"
                inline.append(Inline(mimeType: type, base64: base64))
            }
        }
    }

    /// The categories a block was for, when Google says no more than that.
    private static func ratings(_ holder: JSONValue?) -> String? {
        let ratings = (holder?["safetyRatings"] ?? holder?["safety_ratings"])?.arrayValue ?? []
        let blocked = ratings.filter { $0["blocked"]?.boolValue == true }.compactMap { $0["category"]?.stringValue }
        return blocked.isEmpty ? nil : blocked.joined(separator: ", ")
    }
}
