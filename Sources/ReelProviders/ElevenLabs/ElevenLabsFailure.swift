import ReelCore
import ReelHTTP

/// Turns what went wrong talking to ElevenLabs into the engine's failure classes, from the
/// documented error bodies rather than the status alone: `{"detail": {"status" | "code",
/// "message", …}}` (legacy `status`, newer `code`; either may come) and FastAPI's validation
/// list `{"detail": [{"loc", "msg", "type"}]}`. A 401 is a wrong key or an empty balance
/// (`quota_exceeded`), a 429 a concurrency or rate limit: each needs a different answer.
enum ElevenLabsFailure {
    /// The account has no credits left or must pay: no retry helps, the operator must act.
    static let billingCodes: Set<String> = [
        "quota_exceeded", "payment_required", "insufficient_credits", "credits_exhausted", "subscription_required",
        "usage_based_billing_limit_reached",
    ]
    /// A prompt or text refused by ElevenLabs' content rules (music answers `bad_prompt` with a
    /// suggested rewrite).
    static let moderationCodes: Set<String> = [
        "bad_prompt", "content_against_policy", "content_policy_violation", "content_moderation", "prompt_violation",
        "terms_of_service_violation", "tos_violation", "blocked_content", "moderation_blocked",
    ]
    /// Concurrency and rate limits: wait and send again.
    static let throttleCodes: Set<String> = [
        "too_many_concurrent_requests", "concurrent_limit_exceeded", "system_busy", "rate_limit_exceeded", "rate_limit_error",
    ]
    static let keyCodes: Set<String> = ["invalid_api_key", "missing_api_key", "needs_authorization", "unauthorized", "missing_permissions"]

    /// The error to throw for a failed exchange; wrapped in ``RequestNotAccepted`` when the
    /// request certainly never reached ElevenLabs, so the engine knows nothing was started.
    static func error(_ error: HTTPError) -> any Error {
        let classified = jobError(error)
        if error.certainlyNotAccepted, let job = classified as? JobError { return RequestNotAccepted(job) }
        return classified
    }

    static func jobError(_ error: HTTPError) -> any Error {
        let base: [String: JSONValue] = ["provider": "elevenlabs", "request_id": error.requestID.map(JSONValue.string) ?? .null]
        let said = error.requestID.map { " (request \($0))" } ?? ""
        switch error.kind {
        case .status(let failure):
            let detail = failure.error?.json["detail"]
            var info = base
            info["status"] = .int(Int64(failure.status))
            if let fields = detail?.arrayValue {
                // FastAPI's validation list: name each field, so the job's error says what to fix.
                let problems = fields.map(fieldProblem)
                info["fields"] = .array(fields.map { .string(location($0)) })
                if failure.status == 429 || failure.status >= 500 {
                    return JobError("ElevenLabs error \(failure.status): \(problems.joined(separator: "; "))\(said)", class: .transient, retryAfter: error.retryAfter, detail: .object(info))
                }
                return JobError.permanent("ElevenLabs refused the request: \(problems.joined(separator: "; "))\(said)", detail: .object(info))
            }
            let codes = [detail?["code"], detail?["status"], detail?["type"]].compactMap { $0?.stringValue?.lowercased() }
            let code = detail?["code"]?.stringValue ?? detail?["status"]?.stringValue
            let message = failure.error?.message ?? detail?.stringValue ?? "no error message"
            info["code"] = code.map(JSONValue.string) ?? .null
            if let param = detail?["param"]?.stringValue { info["param"] = .string(param) }
            let words = "\(message)" + (code.map { " [\($0)]" } ?? "") + said
            if codes.contains(where: billingCodes.contains) || failure.status == 402 {
                return JobError.permanent("ElevenLabs billing: the account's credits or plan do not cover this request: \(words)", detail: .object(info))
            }
            if codes.contains(where: moderationCodes.contains) {
                var reason = "rejected by ElevenLabs' content rules: \(message)"
                if let suggestion = detail?["data"]?["prompt_suggestion"]?.stringValue {
                    reason += " (ElevenLabs suggests: \(suggestion))"
                    info["prompt_suggestion"] = .string(suggestion)
                }
                return JobError.permanent(reason + said, detail: .object(info))
            }
            if codes.contains(where: throttleCodes.contains) || failure.status == 429 {
                return JobError("ElevenLabs is busy or at its limit: \(words)", class: .throttled, retryAfter: error.retryAfter, detail: .object(info))
            }
            if failure.status == 401 || codes.contains(where: keyCodes.contains) {
                return JobError.permanent("ElevenLabs refused the API key (check the operator's configuration): \(words)", detail: .object(info))
            }
            switch failure.status {
            case 408, 409, 500...599:
                return JobError("ElevenLabs server error \(failure.status): \(words)", class: .transient, retryAfter: error.retryAfter, detail: .object(info))
            default:
                return JobError.permanent("ElevenLabs rejected the request (HTTP \(failure.status)): \(words)", detail: .object(info))
            }
        case .cancelled:
            return CancellationError()
        case .refused(let why):
            return JobError.permanent("ElevenLabs base URL refused: \(why)", detail: .object(base))
        case .bodyTooLarge(let limit):
            return JobError.permanent("ElevenLabs' answer is larger than the limit of \(limit) bytes\(said)", detail: .object(base))
        case .network, .timeout, .file, .shutdown:
            return JobError("talking to ElevenLabs failed: \(error)", class: .transient, detail: .object(base))
        }
    }

    /// A 2xx answer that is not what the API documents (not JSON, no audio, bad base64): a
    /// transient fault on their side.
    static func malformed(_ what: String, requestID: String?) -> JobError {
        JobError(
            "ElevenLabs answered with a malformed body: \(what)" + (requestID.map { " (request \($0))" } ?? ""), class: .transient,
            detail: ["provider": "elevenlabs", "request_id": requestID.map(JSONValue.string) ?? .null])
    }

    /// `body.duration_seconds: ensure this value is less than or equal to 30`.
    private static func fieldProblem(_ item: JSONValue) -> String {
        let where_ = location(item)
        let message = item["msg"]?.stringValue ?? item["type"]?.stringValue ?? "invalid"
        return where_.isEmpty ? message : "\(where_): \(message)"
    }

    private static func location(_ item: JSONValue) -> String {
        (item["loc"]?.arrayValue ?? []).compactMap { part -> String? in
            if let text = part.stringValue { return text }
            if let index = part.intValue { return String(index) }
            return nil
        }.joined(separator: ".")
    }
}
