import Foundation
import ReelCore
import ReelProviderFakes
import ReelProviders
import Testing

/// Failures read from ElevenLabs' documented error bodies, not the status alone.
@Suite struct ElevenLabsErrorTests {
    let request = GenerationRequest(kind: .speech, prompt: "Hello there.", externalID: "gen-err-1")
    let route = "POST /v1/text-to-speech/{voice_id}/with-timestamps"

    @Test func tooManyConcurrentRequestsWithRetryAfterIsThrottledForThatLong() async throws {
        try await withElevenLabs { h in
            h.fake.script(route, .json(status: 429, FakeElevenLabs.errorBody(
                "Too many concurrent requests. Your current subscription is associated with a maximum of 5 concurrent requests.",
                status: "too_many_concurrent_requests", code: "concurrent_limit_exceeded", type: "rate_limit_error"), headers: [("Retry-After", "3")]))
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.failureClass == .throttled)
            #expect(error.retryAfter == .seconds(3))
            #expect(error.message.contains("maximum of 5 concurrent requests"))
        }
    }

    @Test(arguments: [("system_busy", nil as String?), ("rate_limit_exceeded", "rate_limit_exceeded")])
    func aBusyOrRateLimitedServiceWithoutRetryAfterIsThrottledForTheEngineToPace(status: String, code: String?) async throws {
        try await withElevenLabs { h in
            h.fake.script(route, .json(status: 429, FakeElevenLabs.errorBody("We're experiencing a heavy load.", status: status, code: code)))
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.failureClass == .throttled)
            #expect(error.retryAfter == nil)
        }
    }

    @Test(arguments: [500, 502, 503])
    func aServerErrorIsTransient(status: Int) async throws {
        try await withElevenLabs { h in
            h.fake.script(route, .json(status: status, ["detail": ["status": "internal_error", "message": "Something went wrong."]]))
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.failureClass == .transient)
            #expect(error.message.contains("Something went wrong."))
        }
    }

    @Test func aStalledAnswerTimesOutAsTransient() async throws {
        try await withElevenLabs({ $0.speechTimeout = .milliseconds(700) }) { h in
            h.fake.script(route, .stall)
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.failureClass == .transient)
            #expect(error.message.contains("timeout"))
        }
    }

    @Test func aSlowAnswerPastTheTimeoutIsTransientAndWasStillCharged() async throws {
        // The fake's delay holds the answer back longer than the adapter waits: without the
        // delay the answer would come at once and the call would succeed.
        try await withElevenLabs({ $0.speechTimeout = .milliseconds(150) }) { h in
            h.fake.answerDelay = .milliseconds(600)
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.failureClass == .transient)
            #expect(h.fake.createCount == 1)
        }
    }

    @Test func aThrottledAudioAnswerIsReadFromItsBodyAndRetryAfter() async throws {
        // Sound effects and music stream to a file: their error bodies are read all the same.
        try await withElevenLabs { h in
            h.fake.script("POST /v1/sound-generation", .json(status: 429, FakeElevenLabs.errorBody(
                "Too many concurrent requests.", status: "too_many_concurrent_requests", code: "concurrent_limit_exceeded"), headers: [("Retry-After", "7")]))
            let effect = GenerationRequest(kind: .soundEffect, prompt: "rain on a tin roof", durationSeconds: 3, externalID: "gen-err-sfx")
            let error = try #require(await jobError { try await h.generate(effect) })
            #expect(error.failureClass == .throttled)
            #expect(error.retryAfter == .seconds(7))
            #expect(error.detail?["code"] == "concurrent_limit_exceeded")
            #expect(h.workFiles.isEmpty)
        }
    }

    @Test func aMissingKeyIsRefusedByElevenLabsAsAKeyProblem() async throws {
        try await withElevenLabs(key: "") { h in
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.failureClass == .permanent)
            #expect(error.message.contains("API key"))
            #expect(h.fake.createCount == 0)
        }
    }

    @Test func quotaExceededIsAPermanentBillingFailureNotAKeyProblem() async throws {
        try await withElevenLabs { h in
            h.fake.script(route, .json(status: 401, FakeElevenLabs.errorBody(
                "This request exceeds your quota of 10000. You have 12 credits remaining, while 13 credits are required for this request.", status: "quota_exceeded")))
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.failureClass == .permanent)
            #expect(error.message.contains("billing"))
            #expect(error.message.contains("12 credits remaining"))
            #expect(!error.message.contains("API key"))
        }
    }

    @Test func paymentRequiredIsAPermanentBillingFailure() async throws {
        try await withElevenLabs { h in
            h.fake.script(route, .json(status: 402, FakeElevenLabs.errorBody("Payment required to continue.", status: "payment_required", code: "payment_required")))
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.failureClass == .permanent)
            #expect(error.message.contains("billing"))
        }
    }

    @Test func aValidationErrorIsPermanentAndNamesTheField() async throws {
        try await withElevenLabs { h in
            h.fake.script(route, .json(status: 422, FakeElevenLabs.validationBody(["body", "text"], "field required", type: "value_error.missing")))
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.failureClass == .permanent)
            #expect(error.message.contains("body.text: field required"))
            #expect(error.detail?["fields"] == ["body.text"])
        }
    }

    @Test func anUnsupportedOutputFormatIsRefusedByTheFakeNamingTheParameter() async throws {
        try await withElevenLabs({ $0.outputFormat = "flac_44100" }) { h in
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.failureClass == .permanent)
            #expect(error.message.contains("query.output_format"))
        }
    }

    @Test func aWrongKeyIsPermanentAndNoKeyIsEverLogged() async throws {
        let key = "sk_wrong_key_abcdefghijklmnopqrstuvwxyz"
        try await withElevenLabs(key: key) { h in
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.failureClass == .permanent)
            #expect(error.message.contains("API key"))
            #expect(!error.description.contains(key))
            #expect(h.fake.requests(route).first?.header("xi-api-key") == key)
            let lines = h.logs.lines.withLock { $0 }
            #expect(!lines.isEmpty)
            #expect(!lines.contains { $0.contains(key) || $0.contains("abcdefghijklmnop") })
        }
    }

    @Test func theRequestIDIsLoggedAndTheKeyIsNot() async throws {
        try await withElevenLabs { h in
            _ = try await h.generate(request)
            let lines = h.logs.lines.withLock { $0 }
            #expect(lines.contains { $0.contains("elevenlabs.request_id") && $0.contains("elevenlabs.request") })
            #expect(!lines.contains { $0.contains(FakeElevenLabs.key) })
        }
    }

    @Test func aCallThatNeverReachedElevenLabsSaysSoToTheEngine() async throws {
        // A port nothing listens on: the connection is refused before a byte is sent.
        let closed = try FakeElevenLabs()
        let port = closed.server.port
        closed.server.stop()
        try await withElevenLabs({ $0.baseURL = "http://127.0.0.1:\(port)" }) { h in
            do {
                _ = try await h.generate(request)
                Issue.record("a refused connection succeeded")
            } catch let notAccepted as RequestNotAccepted {
                #expect(notAccepted.error.failureClass == .transient)
            }
        }
    }

    @Test func everyKindIsResubmittedAfterAnInterruptedCallAndNothingIsPolled() async throws {
        try await withElevenLabs { h in
            for kind in [GenerationKind.speech, .soundEffect, .music] {
                #expect(h.provider.recoveryRule(for: kind) == .resubmit)
                #expect(h.provider.capabilities.contains(kind))
            }
            let error = try #require(await jobError {
                try await h.provider.poll(ProviderTask(provider: "elevenlabs", id: "x"), request: request, context: h.context)
            })
            #expect(error.failureClass == .permanent)
            #expect(h.fake.state.value.requests.isEmpty)
        }
    }

    @Test func aHeldCallIsCountedAndAnsweredOnlyWhenTheClientGivesUp() async throws {
        try await withElevenLabs({ $0.speechTimeout = .milliseconds(800) }) { h in
            h.fake.holdCreates = true
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.failureClass == .transient)
            #expect(h.fake.createCount == 1)
            #expect(h.fake.heldCount == 1)
            // Released: the same call is answered again.
            h.fake.holdCreates = false
            _ = try await h.generate(request)
            #expect(h.fake.createCount == 2)
            #expect(h.fake.heldCount == 1)
        }
    }
}
