import Foundation

/// A request as handed to the curl thread: checked, with its limits resolved and the
/// continuation its task waits on.
struct Submission: Sendable {
    enum Destination: Sendable {
        case memory
        case file(URL, maxBytes: Int64)
    }

    let id: UInt64
    let request: HTTPRequest
    let url: RequestURL
    let options: HTTPRequestOptions
    let destination: Destination
    let continuation: CheckedContinuation<TransferOutcome, Never>

    func error(_ kind: HTTPError.Kind, certainlyNotAccepted: Bool, requestID: String? = nil) -> HTTPError {
        HTTPError(kind: kind, method: request.method, url: url.display, certainlyNotAccepted: certainlyNotAccepted, requestID: requestID)
    }
}

/// How a transfer ended.
enum TransferOutcome: Sendable {
    case response(HTTPResponse)
    case download(HTTPDownload)
    case failure(HTTPError)
}
