import Foundation
import ReelCore
import ReelProviderFakes
import ReelProviders
import Testing

/// Failures read from Google's documented error bodies, not the status alone.
@Suite struct GoogleErrorTests {
    let request = GenerationRequest(kind: .image, prompt: "A hero shot of the fair", width: 1024, height: 1024, externalID: "gen-2")
    let route = "POST /v1beta/models/gemini-2.5-flash-image:generateContent"

    @Test func rateLimitWithRetryDelayIsThrottledForThatLong() async throws {
        try await withGoogle { h in
            h.fake.script(route, .json(status: 429, FakeGoogle.rateLimited(retryDelay: "38s")))
            let seen = try #require(await googleFailure { try await h.generate(request) })
            #expect(seen.error.failureClass == .throttled)
            #expect(seen.error.retryAfter == .seconds(38))
            #expect(seen.notAccepted)
        }
    }

    @Test func anErrorInsideAnArrayIsReadAllTheSame() async throws {
        try await withGoogle { h in
            h.fake.script(route, .json(status: 429, [FakeGoogle.rateLimited(retryDelay: "1.5s")]))
            let seen = try #require(await googleFailure { try await h.generate(request) })
            #expect(seen.error.failureClass == .throttled)
            #expect(seen.error.retryAfter == .milliseconds(1500))
            #expect(seen.error.message.contains("You exceeded your current quota"))
        }
    }

    @Test func rateLimitWithARetryAfterHeaderIsThrottledForThatLong() async throws {
        try await withGoogle { h in
            h.fake.script(route, .json(status: 429, FakeGoogle.rateLimited(retryDelay: nil), headers: [("Retry-After", "7")]))
            let seen = try #require(await googleFailure { try await h.generate(request) })
            #expect(seen.error.failureClass == .throttled)
            #expect(seen.error.retryAfter == .seconds(7))
        }
    }

    @Test func rateLimitWithoutAHintIsThrottledForTheEngineToPace() async throws {
        try await withGoogle { h in
            h.fake.script(route, .json(status: 429, FakeGoogle.errorBody(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).")))
            let seen = try #require(await googleFailure { try await h.generate(request) })
            #expect(seen.error.failureClass == .throttled)
            #expect(seen.error.retryAfter == nil)
        }
    }

    @Test func aQuotaOfZeroIsAPermanentBillingFailureNotAWait() async throws {
        try await withGoogle { h in
            h.fake.script(route, .json(status: 429, FakeGoogle.rateLimited(retryDelay: "20s", quotaValue: "0")))
            let seen = try #require(await googleFailure { try await h.generate(request) })
            #expect(seen.error.failureClass == .permanent)
            #expect(seen.error.message.contains("billing"))
            #expect(seen.error.message.contains("limit: 0"))
        }
    }

    @Test func billingDisabledIsPermanent() async throws {
        try await withGoogle { h in
            h.fake.script(route, .json(status: 403, FakeGoogle.errorBody(
                403, "PERMISSION_DENIED", "This API method requires billing to be enabled. Please enable billing on project #1234.",
                details: [["@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "BILLING_DISABLED", "domain": "googleapis.com"]])))
            let seen = try #require(await googleFailure { try await h.generate(request) })
            #expect(seen.error.failureClass == .permanent)
            #expect(seen.error.message.hasPrefix("Google billing"))
            #expect(seen.error.detail?["reason"] == "BILLING_DISABLED")
        }
    }

    @Test func aServerErrorIsTransient() async throws {
        try await withGoogle { h in
            h.fake.script(route, .json(status: 500, FakeGoogle.errorBody(500, "INTERNAL", "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting")))
            let seen = try #require(await googleFailure { try await h.generate(request) })
            #expect(seen.error.failureClass == .transient)
            #expect(seen.error.message.contains("An internal error has occurred"))
        }
    }

    @Test func aWrongKeyIsPermanentAndTheKeyIsNeverLogged() async throws {
        let key = "AIzaSyWRONG-key-abcdefghijklmnop"
        try await withGoogle(key: key) { h in
            let seen = try #require(await googleFailure { try await h.generate(request) })
            #expect(seen.error.failureClass == .permanent)
            #expect(seen.error.message.contains("API key"))
            #expect(seen.error.message.contains("API key not valid"))
            #expect(!seen.error.description.contains(key))
            #expect(h.fake.requests(route).first?.header("x-goog-api-key") == key)
            let lines = h.logs.lines.withLock { $0 }
            #expect(!lines.isEmpty)
            #expect(!lines.contains { $0.contains(key) || $0.contains("abcdefghijklmnop") })
        }
    }

    @Test func noKeyIsPermanent() async throws {
        try await withGoogle(key: "") { h in
            let seen = try #require(await googleFailure { try await h.generate(request) })
            #expect(seen.error.failureClass == .permanent)
            #expect(seen.error.message.contains("PERMISSION_DENIED") || seen.error.message.contains("unregistered callers"))
        }
    }

    @Test func googlesIDsAreLoggedButNeverTheKey() async throws {
        try await withGoogle { h in
            _ = try await h.generate(request)
            let lines = h.logs.lines.withLock { $0 }
            #expect(lines.contains { $0.contains("google.response_id") && $0.contains("resp-") })
            #expect(!lines.contains { $0.contains(FakeGoogle.key) })
        }
    }

    @Test func textAndImagesResubmitVideosAreOutcomeUnknown() async throws {
        try await withGoogle { h in
            #expect(h.provider.recoveryRule(for: .text) == .resubmit)
            #expect(h.provider.recoveryRule(for: .image) == .resubmit)
            #expect(h.provider.recoveryRule(for: .video) == .outcomeUnknown)
            #expect(h.provider.capabilities == [.text, .image, .video])
        }
    }

    @Test func settingsNeverShowTheKey() {
        let settings = GoogleSettings(apiKey: "AIzaSySECRET-1234567890")
        #expect(!"\(settings)".contains("SECRET"))
        #expect(!String(reflecting: settings).contains("SECRET"))
        var dumped = ""
        dump(settings, to: &dumped)
        #expect(!dumped.contains("SECRET"))
    }
}
