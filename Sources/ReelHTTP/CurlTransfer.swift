import CCurl
import Foundation

/// One exchange on the curl thread: its easy handle, what it sends, what came back so far.
/// Never leaves that thread; the caller's task only ever sees the `TransferOutcome`.
final class CurlTransfer {
    /// Why a callback stopped the transfer (returning 0 makes libcurl end it with a write error).
    enum Abort {
        case tooLarge
        case file(String)
        /// An error body reached its cap: the status is what matters, not the rest of the body.
        case errorBodyCut
    }

    /// Error bodies are kept to this size: enough for any provider's message.
    static let errorBodyCap = 64 << 10

    let submission: Submission
    let easy: UnsafeMutableRawPointer
    let started = ContinuousClock.now
    private(set) var url: RequestURL
    private var headers: HTTPHeaders
    private let secrets: [String]
    private let configuration: HTTPClient.Configuration
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private var bodyCopy: UnsafeMutableRawPointer?
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
    private var status = 0
    private var responseHeaders = HTTPHeaders()
    private var body: [UInt8] = []
    private var abort: Abort?
    private var sink: FileSink?
    private var redirects = 0
    /// Asks the curl thread to resume this transfer after its sink paused it.
    private let resumeLater: @Sendable () -> Void

    var id: UInt64 { submission.id }

    init(
        _ submission: Submission, easy: UnsafeMutableRawPointer, configuration: HTTPClient.Configuration,
        resumeLater: @escaping @Sendable () -> Void
    ) {
        self.submission = submission
        self.resumeLater = resumeLater
        self.easy = easy
        self.url = submission.url
        self.headers = submission.request.headers
        self.secrets = submission.request.headers.secretValues
        self.configuration = configuration
        errorBuffer.initialize(to: 0)
    }

    deinit {
        sink?.discard()
        releaseRequestMemory()
        errorBuffer.deallocate()
    }

    // MARK: Setup

    /// Sets every option of the easy handle (fresh or reset) for the current URL and headers.
    func configure() {
        let options = submission.options
        let me = Unmanaged.passUnretained(self).toOpaque()
        set(CURLOPT_URL, url.text)
        // A second wall behind `RequestURL`: libcurl itself will speak no other protocol.
        set(CURLOPT_PROTOCOLS_STR, url.scheme)
        set(CURLOPT_FOLLOWLOCATION, 0)
        set(CURLOPT_NOSIGNAL, 1)
        set(CURLOPT_PRIVATE, pointer: me)
        set(CURLOPT_ERRORBUFFER, pointer: UnsafeMutableRawPointer(errorBuffer))
        set(CURLOPT_WRITEDATA, pointer: me)
        _ = reel_curl_easy_setopt_write(easy) { data, size, count, me in
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(me!).takeUnretainedValue()
            return transfer.receiveBody(UnsafeRawBufferPointer(start: data, count: size * count))
        }
        set(CURLOPT_HEADERDATA, pointer: me)
        _ = reel_curl_easy_setopt_header(easy) { data, size, count, me in
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(me!).takeUnretainedValue()
            transfer.receiveHeader(UnsafeRawBufferPointer(start: data, count: size * count))
            return size * count
        }
        // TLS: verify the peer and its name against the system's CA store (libcurl's default
        // bundle on Debian) or the configured bundle; set explicitly so that no default can
        // turn it off.
        set(CURLOPT_SSL_VERIFYPEER, 1)
        set(CURLOPT_SSL_VERIFYHOST, 2)
        if let caFile = configuration.caFile { set(CURLOPT_CAINFO, caFile) }
        // Proxies as read from the environment when the client was made; "" tells libcurl to
        // use none and not to read the environment itself.
        set(CURLOPT_PROXY, configuration.proxies.proxy(forScheme: url.scheme) ?? "")
        if let noProxy = configuration.proxies.noProxy { set(CURLOPT_NOPROXY, noProxy) }
        set(CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_2TLS))
        // Over TLS, wait for a connection being set up to say (by ALPN, in its handshake) whether
        // it multiplexes HTTP/2, rather than open another. Over plain http (loopback) that is
        // only known from the first response, and waiting for it would serialise requests.
        set(CURLOPT_PIPEWAIT, url.scheme == "https" ? 1 : 0)
        set(CURLOPT_TCP_KEEPALIVE, 1)
        set(CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(options.connectTimeout))
        let left = options.totalTimeout - (ContinuousClock.now - started)
        set(CURLOPT_TIMEOUT_MS, max(1, Self.milliseconds(left)))
        if let lowSpeed = options.lowSpeed {
            set(CURLOPT_LOW_SPEED_LIMIT, max(1, lowSpeed.bytesPerSecond))
            let seconds = lowSpeed.window.components.seconds + (lowSpeed.window.components.attoseconds > 0 ? 1 : 0)
            set(CURLOPT_LOW_SPEED_TIME, Int(max(1, seconds)))
        }
        switch submission.destination {
        case .memory:
            set(CURLOPT_MAXFILESIZE_LARGE, offset: options.maxBodyBytes)
            // gzip, br, zstd: JSON shrinks well; the limit counts the decoded bytes.
            set(CURLOPT_ACCEPT_ENCODING, "")
        case .file(_, let maxBytes):
            set(CURLOPT_MAXFILESIZE_LARGE, offset: maxBytes)
            // Fewer, larger writes for large files (the curl command uses 100 KiB).
            set(CURLOPT_BUFFERSIZE, 256 << 10)
        }
        configureMethod()
        configureHeaders()
    }

    private func configureMethod() {
        let request = submission.request
        switch request.method {
        case .get: set(CURLOPT_HTTPGET, 1)
        case .head: set(CURLOPT_NOBODY, 1)
        case .post, .put, .patch, .delete:
            if request.method != .post { set(CURLOPT_CUSTOMREQUEST, request.method.rawValue) }
            if request.method == .post || request.body != nil {
                let bytes = request.body ?? []
                if bodyCopy == nil {
                    // libcurl reads the body while the transfer runs: a copy that lives as long.
                    let copy = UnsafeMutableRawPointer.allocate(byteCount: max(1, bytes.count), alignment: 1)
                    bytes.withUnsafeBytes { if let base = $0.baseAddress { copy.copyMemory(from: base, byteCount: bytes.count) } }
                    bodyCopy = copy
                }
                set(CURLOPT_POSTFIELDSIZE_LARGE, offset: Int64(bytes.count))
                set(CURLOPT_POSTFIELDS, pointer: bodyCopy)
            }
        }
    }

    private func configureHeaders() {
        if let headerList { curl_slist_free_all(headerList) }
        var list: UnsafeMutablePointer<curl_slist>?
        for field in headers.fields { list = curl_slist_append(list, "\(field.name): \(field.value)") }
        // No "Expect: 100-continue" round trip before a body.
        list = curl_slist_append(list, "Expect:")
        if submission.request.body != nil, !headers.contains("Content-Type") {
            list = curl_slist_append(list, "Content-Type: application/octet-stream")
        }
        if !headers.contains("User-Agent") { set(CURLOPT_USERAGENT, configuration.userAgent) }
        headerList = list
        _ = reel_curl_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, list)
    }

    private func set(_ option: CURLoption, _ value: Int) { _ = reel_curl_easy_setopt_long(easy, option, value) }
    private func set(_ option: CURLoption, _ value: String) { _ = reel_curl_easy_setopt_string(easy, option, value) }
    private func set(_ option: CURLoption, offset value: Int64) { _ = reel_curl_easy_setopt_off_t(easy, option, curl_off_t(value)) }
    private func set(_ option: CURLoption, pointer value: UnsafeMutableRawPointer?) { _ = reel_curl_easy_setopt_pointer(easy, option, value) }

    private func releaseRequestMemory() {
        if let headerList { curl_slist_free_all(headerList) }
        headerList = nil
        bodyCopy?.deallocate()
        bodyCopy = nil
    }

    // MARK: Callbacks (on the curl thread, inside curl_multi_perform)

    /// One header line as libcurl hands it over (with its CRLF), read as bytes: this runs for
    /// every field of every response.
    private func receiveHeader(_ line: UnsafeRawBufferPointer) {
        let bytes = Self.trimmed(line[...])
        if bytes.starts(with: Self.statusPrefix) {
            // A new response: after a 100 Continue, or the next hop of a redirect.
            let words = bytes.split(separator: UInt8(ascii: " "), maxSplits: 2)
            status = words.count > 1 ? Int(String(decoding: words[1], as: UTF8.self)) ?? 0 : 0
            responseHeaders = HTTPHeaders()
            return
        }
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else { return }
        let name = String(decoding: Self.trimmed(bytes[..<colon]), as: UTF8.self)
        let value = String(decoding: Self.trimmed(bytes[(colon + 1)...]), as: UTF8.self)
        responseHeaders.add(name, value, secret: false)
    }

    private static let statusPrefix = Array("HTTP/".utf8)

    /// Without leading and trailing spaces, tabs, CR and LF.
    private static func trimmed(_ bytes: Slice<UnsafeRawBufferPointer>) -> Slice<UnsafeRawBufferPointer> {
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0d || byte == 0x0a }
        var start = bytes.startIndex, end = bytes.endIndex
        while start < end, isSpace(bytes[start]) { start += 1 }
        while end > start, isSpace(bytes[end - 1]) { end -= 1 }
        return bytes[start..<end]
    }

    private func receiveBody(_ data: UnsafeRawBufferPointer) -> Int {
        if willFollow { return data.count }
        let success = (200..<300).contains(status)
        if success, case .file(let destination, let maxBytes) = submission.destination {
            do throws(FileSinkError) {
                let sink = try openSink(destination)
                self.sink = sink
                guard sink.count + Int64(data.count) <= maxBytes else {
                    abort = .tooLarge
                    return 0
                }
                // A full sink: libcurl keeps the chunk and offers it again after `resume()`.
                guard try sink.write(data) else { return Int(CURL_WRITEFUNC_PAUSE) }
                return data.count
            } catch {
                abort = .file(error.message)
                return 0
            }
        }
        let limit = success ? submission.options.maxBodyBytes : Int64(Self.errorBodyCap)
        guard Int64(body.count + data.count) <= limit else {
            abort = success ? .tooLarge : .errorBodyCut
            return 0
        }
        body.append(contentsOf: data)
        return data.count
    }

    private func openSink(_ destination: URL) throws(FileSinkError) -> FileSink {
        if let sink { return sink }
        return try FileSink(destination: destination, bufferBytes: configuration.downloadBufferBytes, resume: resumeLater)
    }

    /// The sink has room again: libcurl delivers the chunk it kept, then reads on.
    func resume() {
        _ = curl_easy_pause(easy, 0)  // CURLPAUSE_CONT, a macro Swift does not import
    }

    /// A 3xx this request follows: its body is not kept.
    private var willFollow: Bool {
        guard (300..<400).contains(status), case .follow = submission.options.redirects else { return false }
        return submission.request.method == .get || submission.request.method == .head
    }

    // MARK: Ending

    enum RedirectStep {
        /// Not a redirect this request follows: the transfer has ended.
        case none
        /// The handle points at the next URL; add it to the multi handle again.
        case followed
        case refused(HTTPError)
    }

    /// After a finished 3xx that this request follows: points the handle at the next URL, or
    /// says why the redirect is refused.
    func prepareRedirect(_ code: CURLcode) -> RedirectStep {
        guard code == CURLE_OK, willFollow, case .follow(let max) = submission.options.redirects else { return .none }
        var location: UnsafeMutablePointer<CChar>?
        guard reel_curl_easy_getinfo_string(easy, CURLINFO_REDIRECT_URL, &location) == CURLE_OK, let location else { return .none }
        let target = String(cString: location)
        guard redirects < max else { return .refused(refusal("more than \(max) redirects")) }
        let next: RequestURL
        switch RequestURL.check(target) {
        case .failure(let refusal): return .refused(self.refusal("redirect to \(RequestURL.display(target)): \(refusal.reason)"))
        case .success(let checked): next = checked
        }
        guard next.scheme == url.scheme else { return .refused(refusal("redirect to another scheme (\(next.display))")) }
        // A key for the API host is not the storage host's business.
        if next.host != url.host || next.port != url.port { headers = headers.withoutSecrets }
        redirects += 1
        url = next
        status = 0
        responseHeaders = HTTPHeaders()
        body.removeAll()
        errorBuffer.pointee = 0
        configure()
        return .followed
    }

    private func refusal(_ why: String) -> HTTPError {
        HTTPError(kind: .refused(redact(why)), method: submission.request.method, url: url.display, certainlyNotAccepted: false, requestID: requestID(nil))
    }

    /// What the caller gets, once the handle is out of the multi handle.
    func outcome(_ code: CURLcode) -> TransferOutcome {
        let sent = requestSize > 0
        if case .tooLarge = abort { return failure(.bodyTooLarge(limit: limit), sent: sent) }
        if code == CURLE_FILESIZE_EXCEEDED { return failure(.bodyTooLarge(limit: limit), sent: sent) }
        if case .file(let why) = abort { return failure(.file(why), sent: sent) }
        var cutError = false
        if case .errorBodyCut = abort { cutError = true }
        guard code == CURLE_OK || cutError else { return failure(classify(code, sent: sent), sent: sent) }
        let rate = RateLimitHints(headers: responseHeaders)
        guard (200..<300).contains(status) else {
            var error = ProviderErrorBody(parsing: body)
            let message = error?.message.map(redact)
            error?.message = message
            let failure = HTTPStatusFailure(status: status, headers: responseHeaders, body: body, error: error, rate: rate)
            return .failure(HTTPError(
                kind: .status(failure), method: submission.request.method, url: url.display, certainlyNotAccepted: false,
                requestID: requestID(error)))
        }
        switch submission.destination {
        case .memory:
            return .response(HTTPResponse(status: status, headers: responseHeaders, body: body, requestID: requestID(nil), rate: rate, url: url.display))
        case .file(let destination, _):
            do throws(FileSinkError) {
                let sink = try openSink(destination)
                self.sink = nil
                let count = sink.count
                let digest = try sink.finish()
                return .download(HTTPDownload(
                    file: destination, byteCount: count, sha256: digest, status: status, headers: responseHeaders,
                    requestID: requestID(nil), url: url.display))
            } catch {
                return failure(.file(error.message), sent: true)
            }
        }
    }

    /// The caller's task was cancelled or the client stops: the handle is already out.
    func abandoned(_ kind: HTTPError.Kind) -> TransferOutcome {
        failure(kind, sent: requestSize > 0)
    }

    private var limit: Int64 {
        switch submission.destination {
        case .memory: submission.options.maxBodyBytes
        case .file(_, let maxBytes): maxBytes
        }
    }

    private var requestSize: Int {
        var size = 0
        _ = reel_curl_easy_getinfo_long(easy, CURLINFO_REQUEST_SIZE, &size)
        return size
    }

    private func failure(_ kind: HTTPError.Kind, sent: Bool) -> TransferOutcome {
        sink?.discard()
        sink = nil
        return .failure(HTTPError(kind: kind, method: submission.request.method, url: url.display, certainlyNotAccepted: !sent, requestID: requestID(nil)))
    }

    private func classify(_ code: CURLcode, sent: Bool) -> HTTPError.Kind {
        let detail = errorBuffer.pointee != 0 ? String(cString: errorBuffer) : String(cString: curl_easy_strerror(code))
        switch code {
        case CURLE_OPERATION_TIMEDOUT:
            if detail.contains("too slow") { return .timeout(.lowSpeed) }
            return .timeout(sent ? .total : .connect)
        case CURLE_PARTIAL_FILE:
            return .network(redact("the response body ended early: \(detail)"))
        default:
            return .network(redact(detail))
        }
    }

    private func requestID(_ error: ProviderErrorBody?) -> String? {
        for name in configuration.requestIDHeaders { if let id = responseHeaders[name] { return id } }
        return error?.requestID
    }

    private func redact(_ text: String) -> String {
        var text = text
        for secret in secrets { text = text.replacingOccurrences(of: secret, with: "[redacted]") }
        return text
    }

    static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return Int(max(0, seconds * 1000 + attoseconds / 1_000_000_000_000_000))
    }
}
