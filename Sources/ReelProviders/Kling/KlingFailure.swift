import ReelCore
import ReelHTTP

/// Turns what went wrong talking to Kling into the engine's failure classes from Kling's own
/// `code` (its envelope is `{code, message, request_id}`), not the status alone: Kling answers
/// 429 both for "too fast" (1302, 1303: wait) and for an account out of money (1100–1102: no
/// retry will help).
enum KlingFailure {
    /// Kling documents no `Retry-After`; its guidance is a backoff starting at one second or more.
    /// Rate (1302) clears quickly; a concurrency slot (1303) frees only when a running task ends.
    static let ratePause: Duration = .seconds(5)
    static let concurrencyPause: Duration = .seconds(30)

    /// `creating`: the error ended a create call, which, certainly not received, may be made
    /// again whatever the recovery rule (the engine is told through `RequestNotAccepted`).
    static func jobError(_ error: HTTPError, creating: Bool = false) -> any Error {
        let classified = classify(error)
        if creating, error.certainlyNotAccepted, let job = classified as? JobError { return RequestNotAccepted(job) }
        return classified
    }

    private static func classify(_ error: HTTPError) -> any Error {
        let base: [String: JSONValue] = ["provider": "kling", "request_id": error.requestID.map(JSONValue.string) ?? .null]
        switch error.kind {
        case .status(let failure):
            let code = failure.error?.code.flatMap { Int($0) }
            return envelopeError(
                code: code, message: failure.error?.message, status: failure.status, requestID: error.requestID ?? failure.error?.requestID,
                retryAfter: error.retryAfter)
        case .cancelled:
            return CancellationError()
        case .refused(let why):
            return JobError.permanent("Kling base URL refused: \(why)", detail: .object(base))
        case .bodyTooLarge(let limit):
            return JobError.permanent("Kling's answer is larger than the limit of \(limit) bytes", detail: .object(base))
        case .network, .timeout, .file, .shutdown:
            return JobError("talking to Kling failed: \(error)", class: .transient, detail: .object(base))
        }
    }

    /// A Kling error envelope (from an error status, or a 200 whose `code` is not 0).
    static func envelopeError(code: Int?, message: String?, status: Int, requestID: String?, retryAfter: Duration? = nil) -> JobError {
        let message = message ?? "no error message"
        var detail: [String: JSONValue] = ["provider": "kling", "status": .int(Int64(status)), "request_id": requestID.map(JSONValue.string) ?? .null]
        detail["code"] = code.map { .int(Int64($0)) } ?? .null
        let said = "Kling \(code.map(String.init) ?? "HTTP \(status)"): \(message)" + (requestID.map { " (request \($0))" } ?? "")
        switch code ?? -1 {
        case 1000...1004:
            return JobError.permanent("Kling refused the access/secret key pair (check the operator's configuration): \(said)", detail: .object(detail))
        case 1100, 1101, 1102:
            return JobError.permanent("Kling billing (the operator's account or resource pack): \(said)", detail: .object(detail))
        case 1103:
            return JobError.permanent("Kling account has no access to this API or model: \(said)", detail: .object(detail))
        case 1301:
            return JobError.permanent("rejected by Kling's content safety policy: \(message)", detail: .object(detail))
        case 1302:
            return JobError("Kling rate limit: \(said)", class: .throttled, retryAfter: retryAfter ?? ratePause, detail: .object(detail))
        case 1303:
            return JobError("Kling concurrency limit: \(said)", class: .throttled, retryAfter: retryAfter ?? concurrencyPause, detail: .object(detail))
        case 1304:
            return JobError.permanent("Kling refused this node's IP address (IP whitelist): \(said)", detail: .object(detail))
        case 1200...1299, 1300:
            return JobError.permanent("Kling rejected the request: \(said)", detail: .object(detail))
        case 5000...5999:
            return JobError("Kling server error: \(said)", class: .transient, retryAfter: retryAfter, detail: .object(detail))
        default:
            // No Kling code (a proxy's page, an unknown code): the status decides.
            switch status {
            case 429:
                return JobError("Kling rate limit: \(said)", class: .throttled, retryAfter: retryAfter ?? ratePause, detail: .object(detail))
            case 401, 403:
                return JobError.permanent("Kling refused the request (HTTP \(status)): \(said)", detail: .object(detail))
            case 408, 409, 500...599:
                return JobError("Kling server error \(status): \(said)", class: .transient, retryAfter: retryAfter, detail: .object(detail))
            default:
                return JobError.permanent("Kling rejected the request (HTTP \(status)): \(said)", detail: .object(detail))
            }
        }
    }

    /// A 2xx answer whose body is not what the API documents: a transient fault on their side.
    static func malformed(_ what: String, requestID: String?) -> JobError {
        JobError(
            "Kling answered with a malformed body: \(what)" + (requestID.map { " (request \($0))" } ?? ""), class: .transient,
            detail: ["provider": "kling", "request_id": requestID.map(JSONValue.string) ?? .null])
    }

    /// A task Kling reports `failed`: not paid for, and never retried (a retry would start and
    /// pay for a new task that most likely fails the same way, e.g. content moderation).
    static func taskFailed(_ taskID: String, message: String?, requestID: String?) -> JobError {
        let reason = (message?.isEmpty == false ? message : nil) ?? "no reason given"
        return JobError.permanent(
            "Kling task \(taskID) failed: \(reason)",
            detail: ["provider": "kling", "task_id": .string(taskID), "task_status_msg": .string(reason), "request_id": requestID.map(JSONValue.string) ?? .null])
    }
}
