import CCurl
import Logging

/// The curl thread's loop: one multi handle drives every transfer of the client; the thread
/// sleeps in `curl_multi_poll` until a socket is ready, a libcurl timer is due, or
/// `curl_multi_wakeup` says the inbox has news. Easy handles are made, used, reset and freed
/// here only. Created on the thread and never shared.
final class CurlLoop {
    /// Reset easy handles kept for the next requests: making one costs more than resetting it.
    private static let spareLimit = 256
    /// The longest sleep with nothing to do; libcurl's own timers cut it short.
    private static let idleMilliseconds: Int32 = 3_600_000

    private let inbox: TransferInbox
    private let configuration: HTTPClient.Configuration
    private let logger: Logger
    private let multi: UnsafeMutableRawPointer
    private var active: [UInt64: CurlTransfer] = [:]
    private var spare: [UnsafeMutableRawPointer] = []

    init?(inbox: TransferInbox, configuration: HTTPClient.Configuration, logger: Logger) {
        guard let multi = curl_multi_init() else { return nil }
        self.multi = multi
        self.inbox = inbox
        self.configuration = configuration
        self.logger = logger
        if configuration.maxConnectionsPerHost > 0 {
            _ = reel_curl_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, configuration.maxConnectionsPerHost)
        }
    }

    func run() {
        inbox.attach(TransferInbox.Wake(multi: multi))
        while true {
            let batch = inbox.take()
            if batch.stop { break }
            for submission in batch.submissions { start(submission) }
            for id in batch.cancellations { cancel(id) }
            for id in batch.resumptions { active[id]?.resume() }
            var running: Int32 = 0
            _ = curl_multi_perform(multi, &running)
            collect()
            _ = curl_multi_poll(multi, nil, 0, Self.idleMilliseconds, nil)
        }
        stop()
    }

    private func start(_ submission: Submission) {
        guard let easy = spare.popLast() ?? curl_easy_init() else {
            inbox.finished([submission.id])
            submission.continuation.resume(returning: .failure(submission.error(.network("libcurl could not make a handle"), certainlyNotAccepted: true)))
            return
        }
        let inbox = self.inbox, id = submission.id
        let transfer = CurlTransfer(
            submission, easy: easy, configuration: configuration,
            resumeLater: { inbox.resume(id) })
        transfer.configure()
        active[submission.id] = transfer
        _ = curl_multi_add_handle(multi, easy)
    }

    /// Removes a cancelled request's handle at once: its connection closes, the server sees it go.
    private func cancel(_ id: UInt64) {
        guard let transfer = active.removeValue(forKey: id) else { return }
        _ = curl_multi_remove_handle(multi, transfer.easy)
        let outcome = transfer.abandoned(.cancelled)
        recycle(transfer.easy)
        inbox.finished([id])
        finish(transfer, outcome)
    }

    private func collect() {
        var ended: [(CurlTransfer, TransferOutcome)] = []
        var left: Int32 = 0
        while let message = curl_multi_info_read(multi, &left) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
            let code = reel_curl_msg_result(message)
            var pointer: UnsafeMutableRawPointer?
            _ = reel_curl_easy_getinfo_pointer(easy, CURLINFO_PRIVATE, &pointer)
            guard let pointer else { continue }
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(pointer).takeUnretainedValue()
            _ = curl_multi_remove_handle(multi, easy)
            switch transfer.prepareRedirect(code) {
            case .followed: _ = curl_multi_add_handle(multi, easy)
            case .refused(let error): ended.append((transfer, .failure(error)))
            case .none: ended.append((transfer, transfer.outcome(code)))
            }
        }
        guard !ended.isEmpty else { return }
        for (transfer, _) in ended {
            active.removeValue(forKey: transfer.id)
            recycle(transfer.easy)
        }
        inbox.finished(ended.map { $0.0.id })
        for (transfer, outcome) in ended { finish(transfer, outcome) }
    }

    private func finish(_ transfer: CurlTransfer, _ outcome: TransferOutcome) {
        if logger.logLevel <= .debug {
            var metadata: Logger.Metadata = [
                "http.method": "\(transfer.submission.request.method)", "http.url": "\(transfer.url.display)",
                "http.duration_ms": "\(CurlTransfer.milliseconds(ContinuousClock.now - transfer.started))",
            ]
            switch outcome {
            case .response(let response):
                metadata["http.status"] = "\(response.status)"
                if let id = response.requestID { metadata["http.request_id"] = "\(id)" }
                logger.debug("HTTP exchange finished", metadata: metadata)
            case .download(let download):
                metadata["http.status"] = "\(download.status)"
                metadata["http.bytes"] = "\(download.byteCount)"
                if let id = download.requestID { metadata["http.request_id"] = "\(id)" }
                logger.debug("HTTP download finished", metadata: metadata)
            case .failure(let error):
                metadata["error"] = "\(error)"
                logger.debug("HTTP exchange failed", metadata: metadata)
            }
        }
        transfer.submission.continuation.resume(returning: outcome)
    }

    private func recycle(_ easy: UnsafeMutableRawPointer) {
        if spare.count < Self.spareLimit {
            curl_easy_reset(easy)
            spare.append(easy)
        } else {
            curl_easy_cleanup(easy)
        }
    }

    /// Ends every transfer and queued request with `.shutdown` and frees libcurl's handles.
    private func stop() {
        let left = inbox.detach()
        for (_, transfer) in active {
            _ = curl_multi_remove_handle(multi, transfer.easy)
            let outcome = transfer.abandoned(.shutdown)
            curl_easy_cleanup(transfer.easy)
            transfer.submission.continuation.resume(returning: outcome)
        }
        active.removeAll()
        for submission in left {
            submission.continuation.resume(returning: .failure(submission.error(.shutdown, certainlyNotAccepted: true)))
        }
        for easy in spare { curl_easy_cleanup(easy) }
        spare.removeAll()
        _ = curl_multi_cleanup(multi)
    }
}
