import CCurl
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// reeld's HTTP client for provider APIs: async/await over one libcurl multi handle driven by
/// a thread of its own (not a thread per request), so connections are reused and HTTP/2 is
/// multiplexed where a server offers it.
///
/// `run()` owns that thread: start it in the node's service group (or use
/// `withRunningClient`); requests made before it starts wait for it, requests after it ends
/// fail with `.shutdown`. Retries are not done here: the errors say enough for the caller
/// (or the job engine) to decide.
public final class HTTPClient: Service, Sendable {
    /// Client-wide settings; each request may bring its own `HTTPRequestOptions`.
    public struct Configuration: Sendable {
        public var defaults: HTTPRequestOptions
        /// Connections to one host at most (0: no limit). Beyond it requests wait for a free one.
        public var maxConnectionsPerHost: Int
        public var userAgent: String
        /// Response headers that carry the provider's request id, first match wins
        /// (OpenAI `x-request-id`, ElevenLabs `request-id`); error bodies' `request_id` otherwise.
        public var requestIDHeaders: [String]
        /// A PEM bundle of the certificate authorities to trust instead of the system's: a
        /// private CA, or a TLS-inspecting proxy's. Peers are verified either way.
        public var caFile: String?
        /// By default the proxies of the process environment when the client is made.
        public var proxies: ProxySettings
        /// Memory per download between the network and the disk: a download pauses while this
        /// much is waiting to be hashed and written.
        public var downloadBufferBytes: Int

        public init(
            defaults: HTTPRequestOptions = HTTPRequestOptions(), maxConnectionsPerHost: Int = 0, userAgent: String = "reeld",
            requestIDHeaders: [String] = ["x-request-id", "request-id", "x-goog-request-id"], caFile: String? = nil,
            proxies: ProxySettings = ProxySettings(environment: ProcessInfo.processInfo.environment),
            downloadBufferBytes: Int = 8 << 20
        ) {
            self.defaults = defaults
            self.maxConnectionsPerHost = maxConnectionsPerHost
            self.userAgent = userAgent
            self.requestIDHeaders = requestIDHeaders
            self.caFile = caFile
            self.proxies = proxies
            self.downloadBufferBytes = max(64 << 10, downloadBufferBytes)
        }
    }

    /// libcurl's process-wide setup, which must come before any handle exists. A `static let`
    /// runs it exactly once, thread-safely; it holds no state of reeld's.
    private static let globalSetup: Void = {
        _ = curl_global_init(3)  // CURL_GLOBAL_ALL (SSL | WIN32), a macro Swift does not import
    }()

    public let configuration: Configuration
    private let logger: Logger
    private let inbox = TransferInbox()
    private let started = Atomic<Bool>(false)
    private let nextID = Atomic<UInt64>(1)

    public init(configuration: Configuration = Configuration(), logger: Logger) {
        _ = Self.globalSetup
        self.configuration = configuration
        self.logger = logger
    }

    /// Runs the curl thread until the task is cancelled or the service group shuts down, then
    /// ends what is still in flight with `.shutdown` and returns once the thread has ended.
    /// Call it once.
    public func run() async throws {
        guard !started.exchange(true, ordering: .sequentiallyConsistent) else { throw HTTPClientAlreadyRunning() }
        let inbox = self.inbox, configuration = self.configuration, logger = self.logger
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await withCheckedContinuation { (ended: CheckedContinuation<Void, Never>) in
                    // A thread, not a task: it blocks in curl_multi_poll, which would hold one of
                    // the few threads of Swift's cooperative pool for good.
                    let thread = Thread {
                        Thread.current.name = "reeld-http"
                        if let loop = CurlLoop(inbox: inbox, configuration: configuration, logger: logger) {
                            loop.run()
                        } else {
                            logger.error("libcurl could not make a multi handle")
                            for submission in inbox.detach() {
                                submission.continuation.resume(returning: .failure(submission.error(.shutdown, certainlyNotAccepted: true)))
                            }
                        }
                        ended.resume()
                    }
                    thread.start()
                }
            } onCancel: {
                inbox.requestStop()
            }
        } onGracefulShutdown: {
            inbox.requestStop()
        }
    }

    /// Sends a request and returns the whole 2xx response, held in memory up to the body limit.
    public func execute(_ request: HTTPRequest) async throws(HTTPError) -> HTTPResponse {
        switch await perform(request, destination: .memory) {
        case .response(let response): return response
        case .failure(let error): throw error
        case .download: preconditionFailure("a request held in memory ended as a download")
        }
    }

    /// Streams a 2xx response body into `file` (through `file.part`, renamed when complete),
    /// hashing it on the way; at most `maxBytes`, checked against Content-Length first and
    /// then as the bytes arrive. On any failure no file is left behind.
    public func download(_ request: HTTPRequest, to file: URL, maxBytes: Int64) async throws(HTTPError) -> HTTPDownload {
        switch await perform(request, destination: .file(file, maxBytes: maxBytes)) {
        case .download(let download): return download
        case .failure(let error): throw error
        case .response: preconditionFailure("a download ended in memory")
        }
    }

    private func perform(_ request: HTTPRequest, destination: Submission.Destination) async -> TransferOutcome {
        let url: RequestURL
        switch RequestURL.check(request.url) {
        case .success(let checked): url = checked
        case .failure(let refusal):
            return .failure(HTTPError(kind: .refused(refusal.reason), method: request.method, url: RequestURL.display(request.url), certainlyNotAccepted: true))
        }
        let id = nextID.add(1, ordering: .relaxed).newValue
        let options = request.options ?? configuration.defaults
        let inbox = self.inbox
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<TransferOutcome, Never>) in
                let submission = Submission(id: id, request: request, url: url, options: options, destination: destination, continuation: continuation)
                if let refused = inbox.submit(submission, cancelled: Task.isCancelled) { continuation.resume(returning: refused) }
            }
        } onCancel: {
            if let waiting = inbox.cancel(id) {
                waiting.continuation.resume(returning: .failure(waiting.error(.cancelled, certainlyNotAccepted: true)))
            }
        }
    }
}

extension HTTPClient {
    /// Runs a client for the duration of `body`: for tools, tests and benchmarks that have no
    /// service group.
    public static func withRunningClient<Result>(
        configuration: Configuration = Configuration(), logger: Logger, _ body: (HTTPClient) async throws -> Result
    ) async throws -> Result {
        let client = HTTPClient(configuration: configuration, logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await client.run() }
            do {
                let result = try await body(client)
                group.cancelAll()
                return result
            } catch {
                group.cancelAll()
                throw error
            }
        }
    }
}

/// `run()` was called a second time.
public struct HTTPClientAlreadyRunning: Error, CustomStringConvertible {
    public var description: String { "the HTTP client is already running" }
}
