import Foundation
import ReelCore
import ReelProviderFakes
import ReelProviders
import Testing

/// Failures read from OpenAI's documented error bodies, not the status alone.
@Suite struct OpenAIErrorTests {
    let request = GenerationRequest(kind: .image, prompt: "A hero shot of the fair", width: 1024, height: 1024, externalID: "gen-2")

    @Test func rateLimitWithRetryAfterIsThrottledForThatLong() async throws {
        try await withOpenAI { h in
            h.fake.script("POST /v1/images/generations", .json(
                status: 429, FakeOpenAI.errorBody("Rate limit reached for gpt-image-1.5 on images per min (IPM): Limit 5, Used 5, Requested 1.", type: "requests", code: "rate_limit_exceeded"),
                headers: [("retry-after", "7")]))
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.failureClass == .throttled)
            #expect(error.retryAfter == .seconds(7))
        }
    }

    @Test func rateLimitWithoutRetryAfterIsThrottledForTheEngineToPace() async throws {
        try await withOpenAI { h in
            h.fake.script("POST /v1/images/generations", .json(
                status: 429, FakeOpenAI.errorBody("Rate limit reached for gpt-image-1.5.", type: "requests", code: "rate_limit_exceeded")))
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.failureClass == .throttled)
            #expect(error.retryAfter == nil)
        }
    }

    /// OpenAI's own clients obey `x-should-retry` over the status.
    @Test func shouldRetryFalseMakesAServerErrorPermanent() async throws {
        try await withOpenAI { h in
            h.fake.script("POST /v1/images/generations", .json(
                status: 500, FakeOpenAI.errorBody("The server had an error while processing your request.", type: "server_error", code: nil),
                headers: [("x-should-retry", "false")]))
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.failureClass == .permanent)
            #expect(error.message.contains("must not be retried"))
            #expect(error.detail?["should_retry"] == false)
        }
    }

    @Test func shouldRetryTrueMakesAConflictLikeStatusRetried() async throws {
        try await withOpenAI { h in
            h.fake.script("POST /v1/images/generations", .json(
                status: 400, FakeOpenAI.errorBody("The engine is currently overloaded.", type: "invalid_request_error", code: nil),
                headers: [("x-should-retry", "true"), ("retry-after", "3")]))
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.failureClass == .transient)
            #expect(error.retryAfter == .seconds(3))
        }
    }

    @Test func shouldRetryTrueOnARateLimitStaysThrottled() async throws {
        try await withOpenAI { h in
            h.fake.script("POST /v1/images/generations", .json(
                status: 429, FakeOpenAI.errorBody("Rate limit reached.", type: "requests", code: "rate_limit_exceeded"),
                headers: [("x-should-retry", "true")]))
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.failureClass == .throttled)
        }
    }

    /// "Retry in 3 days" must not park the job past its deadline without a word: the wait is cut
    /// to the configured maximum and the cut is logged.
    @Test func aVeryLongRetryAfterIsCappedAndLogged() async throws {
        try await withOpenAI({ $0.maxRetryAfter = .seconds(120) }) { h in
            h.fake.script("POST /v1/images/generations", .json(
                status: 429, FakeOpenAI.errorBody("Rate limit reached.", type: "requests", code: "rate_limit_exceeded"),
                headers: [("retry-after", String(3 * 86_400))]))
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.failureClass == .throttled)
            #expect(error.retryAfter == .seconds(120))
            let lines = h.logs.lines.withLock { $0 }
            #expect(lines.contains { $0.hasPrefix("warning") && $0.contains("maximum") && $0.contains("259200") })

            h.fake.script("POST /v1/images/generations", .json(
                status: 503, FakeOpenAI.errorBody("Service unavailable.", type: "server_error", code: nil), headers: [("retry-after", "30")]))
            let short = try #require(await jobError { try await h.generate(request) })
            #expect(short.retryAfter == .seconds(30))
        }
    }

    @Test func insufficientQuotaIsAPermanentBillingFailureNotARetry() async throws {
        try await withOpenAI { h in
            h.fake.script("POST /v1/images/generations", .json(
                status: 429,
                FakeOpenAI.errorBody("You exceeded your current quota, please check your plan and billing details.", type: "insufficient_quota", code: "insufficient_quota"),
                headers: [("retry-after", "20")]))
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.failureClass == .permanent)
            #expect(error.message.contains("billing"))
            #expect(error.message.contains("You exceeded your current quota"))
        }
    }

    @Test func billingHardLimitIsPermanent() async throws {
        try await withOpenAI { h in
            h.fake.script("POST /v1/images/generations", .json(
                status: 400, FakeOpenAI.errorBody("Billing hard limit has been reached", type: "invalid_request_error", code: "billing_hard_limit_reached")))
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.failureClass == .permanent)
            #expect(error.message.contains("billing"))
        }
    }

    @Test func safetyBlockIsPermanentWithTheProvidersReason() async throws {
        try await withOpenAI { h in
            let message = "Your request was rejected by the safety system. If you believe this is an error, contact us. safety_violations=[violence]."
            h.fake.script("POST /v1/images/generations", .json(status: 400, FakeOpenAI.errorBody(message, type: "image_generation_user_error", code: "moderation_blocked")))
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.failureClass == .permanent)
            #expect(error.message.contains("safety_violations=[violence]"))
            #expect(error.detail?["code"] == "moderation_blocked")
        }
    }

    @Test func wrongKeyIsPermanentAndTheKeyIsNeverLogged() async throws {
        let key = "sk-wrong-key-abcdefghijklmnop"
        try await withOpenAI(key: key) { h in
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.failureClass == .permanent)
            #expect(error.message.contains("API key"))
            #expect(!error.description.contains(key))
            let lines = h.logs.lines.withLock { $0 }
            #expect(!lines.isEmpty)
            #expect(!lines.contains { $0.contains(key) || $0.contains("abcdefghijklmnop") })
        }
    }

    @Test func theProvidersRequestIDIsLogged() async throws {
        try await withOpenAI { h in
            _ = try await h.generate(request)
            let lines = h.logs.lines.withLock { $0 }
            #expect(lines.contains { $0.contains("openai.request_id") && $0.contains("req_") })
            #expect(!lines.contains { $0.contains(FakeOpenAI.key) })
        }
    }
}
