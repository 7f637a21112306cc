import ReelCore
import ReelHTTP

/// Turns what went wrong talking to Google into the engine's failure classes, from the
/// documented `{"error": {code, message, status, details[]}}` bodies rather than the status
/// alone: a 429 is a rate limit (wait for its `RetryInfo.retryDelay`) unless the quota is zero,
/// which no wait will raise (the project needs billing); safety blocks come as HTTP 200 and are
/// read by the kinds themselves.
enum GoogleFailure {
    /// `ErrorInfo.reason`s that mean the operator must fix the project's billing.
    static let billingReasons: Set<String> = ["BILLING_DISABLED", "BILLING_NOT_ACTIVE", "BILLING_REQUIRED"]
    /// `ErrorInfo.reason`s that mean the key itself was refused.
    static let keyReasons: Set<String> = ["API_KEY_INVALID", "API_KEY_SERVICE_BLOCKED", "API_KEY_HTTP_REFERRER_BLOCKED", "API_KEY_IP_ADDRESS_BLOCKED"]

    static func jobError(_ error: HTTPError) -> any Error {
        let detailBase: [String: JSONValue] = ["provider": "google", "request_id": error.requestID.map(JSONValue.string) ?? .null]
        switch error.kind {
        case .status(let failure):
            let body = errorObject(failure.error?.json)
            let status = failure.error?.type ?? body?["status"]?.stringValue
            let message = failure.error?.message ?? body?["message"]?.stringValue ?? "no error message"
            let reason = Self.reason(body)
            var detail = detailBase
            detail["status"] = .int(Int64(failure.status))
            detail["google_status"] = status.map(JSONValue.string) ?? .null
            detail["reason"] = reason.map(JSONValue.string) ?? .null
            let said = "Google: \(message)" + (error.requestID.map { " (request \($0))" } ?? "")
            if isBilling(status: failure.status, reason: reason, message: message, body: body) {
                return JobError.permanent("Google billing: \(said)", detail: .object(detail))
            }
            if keyReasons.contains(reason ?? "") || failure.status == 401 {
                return JobError.permanent("Google refused the API key (check the operator's configuration): \(said)", detail: .object(detail))
            }
            switch failure.status {
            case 429:
                return JobError("Google rate limit: \(said)", class: .throttled, retryAfter: error.retryAfter ?? retryDelay(body), detail: .object(detail))
            case 408, 499, 500...599:
                return JobError("Google server error \(failure.status): \(said)", class: .transient, retryAfter: error.retryAfter, detail: .object(detail))
            default:
                return JobError.permanent("Google rejected the request (HTTP \(failure.status)\(status.map { " \($0)" } ?? "")): \(said)", detail: .object(detail))
            }
        case .cancelled:
            return CancellationError()
        case .refused(let why):
            return JobError.permanent("Google base URL refused: \(why)", detail: .object(detailBase))
        case .bodyTooLarge(let limit):
            return JobError.permanent("Google's answer is larger than the limit of \(limit) bytes", detail: .object(detailBase))
        case .network, .timeout, .file, .shutdown:
            return JobError("talking to Google failed: \(error)", class: .transient, detail: .object(detailBase))
        }
    }

    /// Money, not pace: a quota of zero (the model is not in the project's tier: "limit: 0"),
    /// billing switched off, or the free tier unavailable where the node runs.
    static func isBilling(status: Int, reason: String?, message: String, body: JSONValue?) -> Bool {
        if billingReasons.contains(reason ?? "") { return true }
        let lowered = message.lowercased()
        if status == 429 {
            let zeroQuota = quotaViolations(body).contains { $0["quotaValue"]?.stringValue == "0" || $0["quotaValue"]?.intValue == 0 }
            return zeroQuota || lowered.contains("limit: 0")
        }
        if status == 400 || status == 403 {
            return lowered.contains("enable billing") || lowered.contains("billing account") || lowered.contains("billing to be enabled")
        }
        return false
    }

    /// Google's error object: `{"error": {…}}`, or the same inside a one-element array, as some
    /// of Google's front ends send it.
    static func errorObject(_ json: JSONValue?) -> JSONValue? {
        json?["error"] ?? json?.arrayValue?.first?["error"]
    }

    /// `RetryInfo.retryDelay`, a protobuf duration ("38s", "0.5s"), when the body was not read
    /// by the HTTP client (an error inside an array).
    static func retryDelay(_ error: JSONValue?) -> Duration? {
        for detail in error?["details"]?.arrayValue ?? [] {
            guard let text = detail["retryDelay"]?.stringValue, text.hasSuffix("s"), let seconds = Double(text.dropLast()), seconds.isFinite, seconds >= 0 else { continue }
            return .milliseconds(Int64(seconds * 1000))
        }
        return nil
    }

    /// `ErrorInfo.reason` from `error.details`, when Google sent one.
    static func reason(_ error: JSONValue?) -> String? {
        for detail in error?["details"]?.arrayValue ?? [] where (detail["@type"]?.stringValue ?? "").hasSuffix("google.rpc.ErrorInfo") {
            if let reason = detail["reason"]?.stringValue { return reason }
        }
        return nil
    }

    static func quotaViolations(_ error: JSONValue?) -> [JSONValue] {
        (error?["details"]?.arrayValue ?? []).filter { ($0["@type"]?.stringValue ?? "").hasSuffix("google.rpc.QuotaFailure") }
            .flatMap { $0["violations"]?.arrayValue ?? [] }
    }

    /// A 2xx answer whose body is not what the API documents: a transient fault on their side.
    static func malformed(_ what: String, requestID: String?) -> JobError {
        JobError(
            "Google answered with a malformed body: \(what)" + (requestID.map { " (response \($0))" } ?? ""), class: .transient,
            detail: ["provider": "google", "request_id": requestID.map(JSONValue.string) ?? .null])
    }

    /// A safety block: the user sees Google's reason, and no retry will change it.
    static func blocked(_ what: String, reason: String, message: String?, requestID: String?) -> JobError {
        JobError.permanent(
            "\(what) was blocked by Google's safety filters (\(reason))" + (message.map { ": \($0)" } ?? ""),
            detail: ["provider": "google", "reason": .string(reason), "request_id": requestID.map(JSONValue.string) ?? .null])
    }

    /// The gRPC code names a finished operation's `error.code` stands for.
    static let grpcCodes: [Int64: String] = [
        1: "CANCELLED", 2: "UNKNOWN", 3: "INVALID_ARGUMENT", 4: "DEADLINE_EXCEEDED", 5: "NOT_FOUND", 7: "PERMISSION_DENIED",
        8: "RESOURCE_EXHAUSTED", 9: "FAILED_PRECONDITION", 10: "ABORTED", 13: "INTERNAL", 14: "UNAVAILABLE", 16: "UNAUTHENTICATED",
    ]

    /// A finished operation with an `error` (a `google.rpc.Status`). The operation is over:
    /// polling it again gives the same answer, so the job fails with Google's words.
    static func operationFailed(_ error: JSONValue, operation: String) -> JobError {
        let code = error["code"]?.intValue
        let name = code.flatMap { grpcCodes[$0] } ?? code.map { "code \($0)" } ?? "no code"
        let message = error["message"]?.stringValue ?? "no reason given"
        return JobError.permanent(
            "the video failed at Google (\(name)): \(message)",
            detail: ["provider": "google", "operation": .string(operation), "code": code.map(JSONValue.int) ?? .null])
    }
}
