import Foundation
@testable import ReelHTTP
import Testing

@Suite struct PacingHeaderTests {
    @Test func retryAfterReadsSecondsMillisecondsAndEveryHTTPDateForm() {
        let server = Date(timeIntervalSince1970: 784_111_777)  // Sun, 06 Nov 1994 08:49:37 GMT
        #expect(RateLimitHints(headers: HTTPHeaders([("Retry-After", "120")])).retryAfter == .seconds(120))
        #expect(RateLimitHints(headers: HTTPHeaders([("retry-after-ms", "250.4"), ("Retry-After", "9")])).retryAfter == .milliseconds(250))
        for form in ["Sun, 06 Nov 1994 08:50:07 GMT", "Sunday, 06-Nov-94 08:50:07 GMT", "Sun Nov  6 08:50:07 1994"] {
            #expect(RateLimitHints.retryAfter(form, serverDate: server, now: .distantFuture) == .seconds(30), "\(form)")
        }
        // Without a Date header the local clock counts; a date in the past means now.
        #expect(RateLimitHints.retryAfter("Sun, 06 Nov 1994 08:50:07 GMT", serverDate: nil, now: server) == .seconds(30))
        #expect(RateLimitHints.retryAfter("Sun, 06 Nov 1994 08:49:00 GMT", serverDate: server, now: server) == .zero)
        #expect(RateLimitHints.retryAfter("soon", serverDate: nil, now: server) == nil)
    }

    @Test func rateHeadersOfOpenAIAndElevenLabsAreRead() {
        let hints = RateLimitHints(headers: HTTPHeaders([
            ("x-ratelimit-limit-requests", "500"), ("x-ratelimit-remaining-requests", "499"), ("x-ratelimit-reset-requests", "120ms"),
            ("x-ratelimit-limit-tokens", "30000"), ("x-ratelimit-remaining-tokens", "29000"), ("x-ratelimit-reset-tokens", "1m30.5s"),
            ("current-concurrent-requests", "3"), ("maximum-concurrent-requests", "5"), ("openai-poll-after-ms", "2000"),
        ]))
        #expect(hints.requests == RateLimitHints.Window(limit: 500, remaining: 499, reset: .milliseconds(120)))
        #expect(hints.tokens == RateLimitHints.Window(limit: 30000, remaining: 29000, reset: .milliseconds(90_500)))
        #expect(hints.concurrentRequests == 3)
        #expect(hints.maximumConcurrentRequests == 5)
        #expect(hints.pollAfter == .seconds(2))
        #expect(RateLimitHints(headers: HTTPHeaders()).isEmpty)
    }

    @Test func onlyHTTPSOrLoopbackHTTPPasses() throws {
        for allowed in ["https://api.openai.com/v1/videos", "http://127.0.0.1:8080/x", "http://127.1.2.3/", "http://localhost:1/", "http://[::1]:80/"] {
            #expect((try? RequestURL.check(allowed).get()) != nil, "\(allowed)")
        }
        for refused in ["http://example.com/", "http://127.0.0.1.nip.io/", "http://localhost.example.com/", "ftp://127.0.0.1/", "file:///etc/passwd", "http://10.0.0.1/", "not a url"] {
            #expect((try? RequestURL.check(refused).get()) == nil, "\(refused)")
        }
        #expect(try RequestURL.check("https://generativelanguage.googleapis.com/v1beta/files/abc:download?alt=media&key=SECRET").get().display
            == "https://generativelanguage.googleapis.com/v1beta/files/abc:download?…")
    }
}
