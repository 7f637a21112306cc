import Logging
import ReelCore
import ReelHTTP

/// Turns what went wrong talking to OpenAI into the engine's failure classes, from the
/// documented error bodies rather than the status alone: a 429 is either a rate limit (wait and
/// try again) or an exhausted quota (billing: no retry will help).
enum OpenAIFailure {
    static let billingCodes: Set<String> = ["insufficient_quota", "billing_hard_limit_reached", "billing_not_active"]

    /// `maxRetryAfter` caps the wait a 429 or 5xx asks for: a provider saying "retry in 3 days"
    /// would otherwise park the job, silently, past any deadline. A cut is logged.
    static func jobError(_ error: HTTPError, maxRetryAfter: Duration, logger: Logger) -> any Error {
        let classified = classify(error, maxRetryAfter: maxRetryAfter, logger: logger)
        guard var jobError = classified as? JobError else { return classified }
        jobError.certainlyNotAccepted = certainlyNotAccepted(error)
        return jobError
    }

    /// Whether OpenAI cannot have started (or billed) anything for this call: the request never
    /// left (ReelHTTP says so), or the server answered with a 5xx, which OpenAI's own SDKs send
    /// again without asking, as a request the API did not take.
    static func certainlyNotAccepted(_ error: HTTPError) -> Bool {
        if error.certainlyNotAccepted { return true }
        if let status = error.status { return (500...599).contains(status) }
        return false
    }

    private static func classify(_ error: HTTPError, maxRetryAfter: Duration, logger: Logger) -> any Error {
        let retryAfter = cappedRetryAfter(error.retryAfter, maximum: maxRetryAfter, requestID: error.requestID, logger: logger)
        let detailBase: [String: JSONValue] = ["provider": "openai", "request_id": error.requestID.map(JSONValue.string) ?? .null]
        switch error.kind {
        case .status(let failure):
            let code = failure.error?.code
            let type = failure.error?.type
            let message = failure.error?.message ?? "no error message"
            var detail = detailBase
            detail["status"] = .int(Int64(failure.status))
            detail["code"] = code.map(JSONValue.string) ?? .null
            detail["type"] = type.map(JSONValue.string) ?? .null
            let said = "OpenAI: \(message)" + (error.requestID.map { " (request \($0))" } ?? "")
            // A 429 that says the money ran out: waiting will not help, the operator must pay.
            if billingCodes.contains(code ?? "") || type == "insufficient_quota" {
                return JobError.permanent("OpenAI billing: \(said)", detail: .object(detail))
            }
            if code == "moderation_blocked" {
                return JobError.permanent("rejected by OpenAI's safety system: \(message)", detail: .object(detail))
            }
            // OpenAI's own clients obey `x-should-retry` over the status: "false" forbids a retry
            // the status would allow, "true" asks for one the status would not.
            switch failure.headers["x-should-retry"]?.trimmingCharacters(in: .whitespaces).lowercased() {
            case "false":
                detail["should_retry"] = false
                return JobError.permanent("OpenAI says this request must not be retried (HTTP \(failure.status)): \(said)", detail: .object(detail))
            case "true":
                detail["should_retry"] = true
                let throttled = failure.status == 429
                return JobError(
                    "OpenAI asks for this request to be retried (HTTP \(failure.status)): \(said)", class: throttled ? .throttled : .transient,
                    retryAfter: retryAfter, detail: .object(detail))
            default: break
            }
            switch failure.status {
            case 429:
                return JobError("OpenAI rate limit: \(said)", class: .throttled, retryAfter: retryAfter, detail: .object(detail))
            case 401:
                return JobError.permanent("OpenAI refused the API key (check the operator's configuration): \(said)", detail: .object(detail))
            case 408, 409, 500...599:
                return JobError("OpenAI server error \(failure.status): \(said)", class: .transient, retryAfter: retryAfter, detail: .object(detail))
            default:
                return JobError.permanent("OpenAI rejected the request (HTTP \(failure.status)): \(said)", detail: .object(detail))
            }
        case .cancelled:
            return CancellationError()
        case .refused(let why):
            return JobError.permanent("OpenAI base URL refused: \(why)", detail: .object(detailBase))
        case .bodyTooLarge(let limit):
            return JobError.permanent("OpenAI's answer is larger than the limit of \(limit) bytes", detail: .object(detailBase))
        case .network, .timeout, .file, .shutdown:
            return JobError("talking to OpenAI failed: \(error)", class: .transient, detail: .object(detailBase))
        }
    }

    /// The provider's wait, at most `maximum`; a longer one is cut and logged, so that an
    /// operator sees why the job came back sooner than OpenAI asked.
    static func cappedRetryAfter(_ asked: Duration?, maximum: Duration, requestID: String?, logger: Logger) -> Duration? {
        guard let asked, asked > maximum else { return asked }
        var metadata: Logger.Metadata = [
            "openai.retry_after_s": "\(asked.components.seconds)", "openai.max_retry_after_s": "\(maximum.components.seconds)",
        ]
        if let requestID { metadata["openai.request_id"] = "\(requestID)" }
        logger.warning("OpenAI asked for a longer wait than the configured maximum; waiting the maximum", metadata: metadata)
        return maximum
    }

    /// A video that failed at OpenAI. A video is paid per second made, and a new attempt would
    /// create a new video: OpenAI does not document a failed video as free or a retry as
    /// refunded, so no failure of a video is retried automatically, not even `server_error`.
    static func failedVideo(_ error: JSONValue?, id: String, requestID: String?) -> JobError {
        let failure = modelError(error, what: "the video \(id)", requestID: requestID)
        guard failure.failureClass != .permanent else { return failure }
        return JobError.permanent(
            failure.message + " (not retried: another attempt would start a new, separately billed video; resubmit the job to try again)",
            detail: failure.detail)
    }

    /// A 2xx answer whose body is not what the API documents: a transient fault on their side.
    static func malformed(_ what: String, requestID: String?) -> JobError {
        JobError(
            "OpenAI answered with a malformed body: \(what)" + (requestID.map { " (request \($0))" } ?? ""), class: .transient,
            detail: ["provider": "openai", "request_id": requestID.map(JSONValue.string) ?? .null])
    }

    /// A model-level error object (`{"code", "message"}`) in a 200 answer: a failed response or video.
    static func modelError(_ error: JSONValue?, what: String, requestID: String?) -> JobError {
        let code = error?["code"]?.stringValue
        let message = error?["message"]?.stringValue ?? "no reason given"
        let detail: JSONValue = ["provider": "openai", "code": code.map(JSONValue.string) ?? .null, "request_id": requestID.map(JSONValue.string) ?? .null]
        switch code {
        case "server_error", "internal_error":
            return JobError("\(what) failed at OpenAI (\(code ?? "")): \(message)", class: .transient, detail: detail)
        case "rate_limit_exceeded":
            return JobError("\(what) failed at OpenAI (\(code ?? "")): \(message)", class: .throttled, detail: detail)
        case "moderation_blocked":
            return JobError.permanent("rejected by OpenAI's safety system: \(message)", detail: detail)
        default:
            return JobError.permanent("\(what) failed at OpenAI (\(code ?? "no code")): \(message)", detail: detail)
        }
    }
}
