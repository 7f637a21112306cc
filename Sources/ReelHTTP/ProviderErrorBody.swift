import ReelCore

/// The common fields of the error bodies providers send, read once here so that adapters and
/// logs see the provider's own words: OpenAI's and Google's `{"error": {…}}`, Kling's
/// `{"code", "message", "request_id"}`, ElevenLabs' `{"detail": {…}}` (or FastAPI's list),
/// Replicate's `{"detail": "…"}`. The whole document stays in `json` for what is particular.
public struct ProviderErrorBody: Sendable, Hashable {
    public var message: String?
    /// `error.code` (OpenAI, as text), Kling's numeric `code`, ElevenLabs' `detail.code`.
    public var code: String?
    /// OpenAI's `error.type`, Google's `error.status` ("RESOURCE_EXHAUSTED"), ElevenLabs' `detail.status`.
    public var type: String?
    public var requestID: String?
    /// Google's `RetryInfo.retryDelay` ("38s") from `error.details`.
    public var retryDelay: Duration?
    public var json: JSONValue

    /// Nil when the body is not JSON.
    public init?(parsing body: [UInt8]) {
        guard !body.isEmpty, let json = try? JSONValue(parsing: body) else { return nil }
        self.json = json
        if let error = json["error"] {
            if let text = error.stringValue {
                message = text
            } else {
                message = error["message"]?.stringValue
                code = Self.text(error["code"])
                type = error["type"]?.stringValue ?? error["status"]?.stringValue
                for detail in error["details"]?.arrayValue ?? [] {
                    if let delay = detail["retryDelay"]?.stringValue { retryDelay = RateLimitHints.goDuration(delay) }
                }
            }
        } else if let detail = json["detail"] {
            if let text = detail.stringValue {
                message = text
            } else if let items = detail.arrayValue {
                message = items.compactMap { $0["msg"]?.stringValue }.joined(separator: "; ")
                type = "validation_error"
            } else {
                message = detail["message"]?.stringValue
                code = Self.text(detail["code"])
                type = detail["status"]?.stringValue ?? detail["type"]?.stringValue
                requestID = detail["request_id"]?.stringValue
            }
        } else {
            message = json["message"]?.stringValue ?? json["title"]?.stringValue
            code = Self.text(json["code"])
        }
        requestID = requestID ?? json["request_id"]?.stringValue
    }

    private static func text(_ value: JSONValue?) -> String? {
        switch value {
        case .string(let s): s
        case .int(let i): String(i)
        default: nil
        }
    }
}
