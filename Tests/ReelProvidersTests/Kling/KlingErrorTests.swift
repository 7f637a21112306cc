import Foundation
import ReelCore
import ReelProviderFakes
import Testing

@testable import ReelProviders

/// Failures read from Kling's `{code, message, request_id}` envelope, not the status alone.
@Suite struct KlingErrorTests {
    let request = GenerationRequest(kind: .video, prompt: "A storm over the harbour", durationSeconds: 5, externalID: "gen-err-1")
    let route = "POST /v1/videos/text2video"

    @Test func rateLimit1302WithoutRetryAfterIsThrottledAtAModestPace() async throws {
        try await withKling { h in
            h.fake.script(route, FakeKling.error(429, 1302, "The API request is too fast"))
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.failureClass == .throttled)
            #expect(error.retryAfter == KlingFailure.ratePause)
        }
    }

    @Test func concurrency1303HonoursARetryAfterWhenOneIsSent() async throws {
        try await withKling { h in
            h.fake.script(route, .json(status: 429, FakeKling.errorBody(1303, "parallel task over resource pack limit"), headers: [("Retry-After", "7")]))
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.failureClass == .throttled)
            #expect(error.retryAfter == .seconds(7))
            #expect(error.message.contains("parallel task over resource pack limit"))
        }
    }

    @Test func concurrency1303WithoutRetryAfterWaitsForASlot() async throws {
        try await withKling { h in
            h.fake.script(route, FakeKling.error(429, 1303, "parallel task over resource pack limit"))
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.failureClass == .throttled)
            #expect(error.retryAfter == KlingFailure.concurrencyPause)
        }
    }

    @Test func anEmptyResourcePackIsAPermanentBillingFailureThoughItIs429() async throws {
        for code in [1100, 1101, 1102] {
            try await withKling { h in
                h.fake.script(route, FakeKling.error(429, code, "Resource pack depleted or expired"))
                let error = try #require(await jobError { try await h.generate(request) })
                #expect(error.failureClass == .permanent)
                #expect(error.message.contains("billing"))
                #expect(error.message.contains("Resource pack depleted"))
                #expect(error.detail?["code"] == .int(Int64(code)))
            }
        }
    }

    @Test func aContentSafetyBlockIsPermanentWithKlingsReason() async throws {
        try await withKling { h in
            h.fake.script(route, FakeKling.error(400, 1301, "Trigger the content security policy of the platform: violence"))
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.failureClass == .permanent)
            #expect(error.message.contains("content safety"))
            #expect(error.message.contains("violence"))
        }
    }

    @Test func anIPWhitelistRefusalIsPermanentThoughItIs429() async throws {
        try await withKling { h in
            h.fake.script(route, FakeKling.error(429, 1304, "Trigger the platform's IP whitelisting policy"))
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.failureClass == .permanent)
        }
    }

    @Test func serverErrorsAreTransient() async throws {
        for (status, code) in [(500, 5000), (503, 5001), (504, 5002)] {
            try await withKling { h in
                h.fake.script(route, FakeKling.error(status, code, "Server internal error"))
                let error = try #require(await jobError { try await h.generate(request) })
                #expect(error.failureClass == .transient)
                #expect(error.detail?["code"] == .int(Int64(code)))
            }
        }
    }

    @Test func aNonZeroCodeInA200IsReadAsTheError() async throws {
        try await withKling { h in
            h.fake.script(route, .json(status: 200, FakeKling.errorBody(1302, "too fast")))
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.failureClass == .throttled)
        }
    }

    @Test func aCodeSentAsAStringIsReadAsWell() async throws {
        try await withKling { h in
            h.fake.script(route, .json(status: 200, ["code": "1303", "message": "parallel task over resource pack limit", "request_id": "r-2"]))
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.failureClass == .throttled)
            #expect(error.detail?["code"] == .int(1303))
        }
    }

    @Test func invalidParametersArePermanentWithKlingsMessage() async throws {
        try await withKling { h in
            // The fake refuses what the API refuses: a model Kling does not have (1203).
            var request = self.request
            request.model = "kling-v9-unknown"
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.failureClass == .permanent)
            #expect(error.message.contains("kling-v9-unknown"))
            #expect(h.fake.createCount == 0)
        }
    }

    @Test func aTimeoutIsTransient() async throws {
        try await withKling({ $0.requestTimeout = .milliseconds(400) }) { h in
            h.fake.script(route, .stall)
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.failureClass == .transient)
        }
    }

    @Test func malformedJSONIsTransient() async throws {
        try await withKling { h in
            h.fake.script(route, .raw(status: 200, contentType: "application/json", Array(#"{"code":0,"data":{"task_id":"#.utf8)))
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.failureClass == .transient)
            #expect(error.message.contains("malformed"))
        }
    }

    @Test func aTaskWithoutItsIdIsMalformed() async throws {
        try await withKling { h in
            h.fake.script(route, .json(status: 200, ["code": 0, "message": "SUCCEED", "request_id": "r-1", "data": ["task_status": "submitted"]]))
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.failureClass == .transient)
            #expect(error.detail?["request_id"] == "r-1")
        }
    }

    @Test func aCreateThatCertainlyNeverArrivedIsMarkedNotAccepted() async throws {
        // A port with nothing listening: the connection is refused before anything is sent.
        let closed = try FakeKling()
        let base = closed.baseURL
        closed.server.stop()
        try await withKling({ $0.baseURL = base }) { h in
            let error = try #require(await anyError { try await h.generate(request) })
            let notAccepted = try #require(error as? RequestNotAccepted)
            #expect(notAccepted.error.failureClass == .transient)
        }
    }

    @Test func keysAndTokensNeverReachTheLogsButKlingsRequestIDDoes() async throws {
        try await withKling { h in
            let (task, _) = try pending(try await h.generate(request))
            _ = try finished(try await h.poll(task, request))
            h.fake.script("GET /v1/videos/text2video/\(task.id)", .json(status: 500, ["code": 5000, "message": "Server internal error", "request_id": "req-kling-500"]))
            _ = await jobError { try await h.poll(task, request) }
            let token = try #require(h.fake.requests(route).first?.header("authorization")).dropFirst(7)
            let lines = h.logs.all
            #expect(!lines.isEmpty)
            #expect(!lines.contains { $0.contains(FakeKling.secretKey) || $0.contains(FakeKling.accessKey) || $0.contains(token) })
            #expect(lines.contains { $0.contains("kling.request_id") && $0.contains("req-kling-500") })
            #expect(lines.contains { $0.contains("kling.request_id") && $0.contains("kling.task") })
            let settings = "\(h.provider.settings) \(String(reflecting: h.provider.settings))"
            #expect(!settings.contains(FakeKling.secretKey) && !settings.contains(FakeKling.accessKey))
        }
    }
}
