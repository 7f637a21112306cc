import Foundation

/// What a response says about pacing: `Retry-After` (seconds or HTTP-date), OpenAI's
/// `retry-after-ms`, `x-ratelimit-*` and `openai-poll-after-ms`, ElevenLabs' concurrency
/// headers. Every field is nil when the response did not say.
public struct RateLimitHints: Sendable, Hashable {
    /// One limit's window: OpenAI sends one for requests and one for tokens.
    public struct Window: Sendable, Hashable {
        public var limit: Int?
        public var remaining: Int?
        /// Until the window is full again (`x-ratelimit-reset-*`, Go durations such as "6m0s").
        public var reset: Duration?
    }

    /// How long to wait before trying again: `retry-after-ms`, else `Retry-After`. An HTTP-date
    /// is read against the response's own `Date` header when it has one, so that a skewed local
    /// clock does not stretch or cut the wait. Never negative.
    public var retryAfter: Duration?
    public var requests: Window?
    public var tokens: Window?
    /// ElevenLabs: `current-concurrent-requests` and `maximum-concurrent-requests`.
    public var concurrentRequests: Int?
    public var maximumConcurrentRequests: Int?
    /// OpenAI's suggested poll interval for a video (`openai-poll-after-ms`).
    public var pollAfter: Duration?

    public init() {}

    public var isEmpty: Bool { self == RateLimitHints() }

    /// Reads the hints from response headers; `now` is the local clock, used only when the
    /// response has no `Date`.
    public init(headers: HTTPHeaders, now: Date = Date()) {
        if let ms = headers["retry-after-ms"].flatMap({ Double($0.trimmingCharacters(in: .whitespaces)) }), ms.isFinite {
            retryAfter = .milliseconds(Int64(max(0, ms).rounded()))
        } else if let value = headers["retry-after"] {
            retryAfter = Self.retryAfter(value, serverDate: headers["date"].flatMap(HTTPDate.parse), now: now)
        }
        requests = Self.window(headers, Self.requestNames)
        tokens = Self.window(headers, Self.tokenNames)
        concurrentRequests = headers["current-concurrent-requests"].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        maximumConcurrentRequests = headers["maximum-concurrent-requests"].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        pollAfter = headers["openai-poll-after-ms"].flatMap { Int64($0.trimmingCharacters(in: .whitespaces)) }.map { .milliseconds(max(0, $0)) }
    }

    /// `Retry-After: 120` or `Retry-After: Fri, 31 Dec 1999 23:59:59 GMT`.
    static func retryAfter(_ value: String, serverDate: Date?, now: Date) -> Duration? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(trimmed), seconds.isFinite {
            return .milliseconds(Int64(max(0, seconds) * 1000))
        }
        guard let date = HTTPDate.parse(trimmed) else { return nil }
        let seconds = date.timeIntervalSince(serverDate ?? now)
        return .milliseconds(Int64(max(0, seconds) * 1000))
    }

    /// The header names of one window, built once: every response is read for them.
    private struct WindowNames {
        let limit, remaining, reset: String
        init(_ name: String) {
            limit = "x-ratelimit-limit-\(name)"
            remaining = "x-ratelimit-remaining-\(name)"
            reset = "x-ratelimit-reset-\(name)"
        }
    }

    private static let requestNames = WindowNames("requests")
    private static let tokenNames = WindowNames("tokens")

    private static func window(_ headers: HTTPHeaders, _ names: WindowNames) -> Window? {
        let limit = headers[names.limit].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let remaining = headers[names.remaining].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let reset = headers[names.reset].flatMap { goDuration($0.trimmingCharacters(in: .whitespaces)) }
        if limit == nil, remaining == nil, reset == nil { return nil }
        return Window(limit: limit, remaining: remaining, reset: reset)
    }

    /// A Go duration ("1h2m3.5s", "12ms", "6m0s"), or plain seconds ("20").
    static func goDuration(_ text: String) -> Duration? {
        if let seconds = Double(text), seconds.isFinite { return .milliseconds(Int64(max(0, seconds) * 1000)) }
        var total = 0.0
        var rest = Substring(text)
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { !($0.isNumber || $0 == ".") }
            rest = rest.dropFirst(unit.count)
            let scale: Double = switch unit {
            case "h": 3600
            case "m": 60
            case "s": 1
            case "ms": 1e-3
            case "us", "µs": 1e-6
            case "ns": 1e-9
            default: -1
            }
            guard scale > 0 else { return nil }
            total += value * scale
        }
        return .nanoseconds(Int64(total * 1e9))
    }
}
