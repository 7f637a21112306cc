import Foundation
import Logging
import ReelHTTP
import ReelCore
import ReelProviderFakes
import Testing

@testable import ReelProviders

/// The JWT Kling authenticates with, and the fake's checks of it (1001–1004).
@Suite struct KlingTokenTests {
    let request = GenerationRequest(kind: .video, prompt: "A lighthouse at dusk", externalID: "gen-token")

    @Test func matchesTheDocumentedTestVector() {
        let token = KlingToken(accessKey: "ak_test", secretKey: "sk_test", expires: 1_700_001_800, notBefore: 1_699_999_995)
        #expect(token.value == "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJha190ZXN0IiwiZXhwIjoxNzAwMDAxODAwLCJuYmYiOjE2OTk5OTk5OTV9.eDa_F6Qhv7yHoYstKBIL6uubYWDLHLekl_49ClsUCf4")
        #expect(KlingToken(accessKey: "ak_test", secretKey: "sk_test", now: 1_700_000_000) == token)
    }

    @Test func isSentAsBearerAndAcceptedByTheFake() async throws {
        try await withKling { h in
            _ = try pending(try await h.generate(request))
            let auth = try #require(h.fake.requests("POST /v1/videos/text2video").first?.header("authorization"))
            #expect(auth.hasPrefix("Bearer ey"))
            #expect(!auth.contains(FakeKling.secretKey))
        }
    }

    @Test func aWrongSecretKeyIsRefusedAsInvalidAndFailsPermanently() async throws {
        try await withKling(secretKey: "sk-wrong-secret-zyxwvutsrq") { h in
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.failureClass == .permanent)
            #expect(error.detail?["code"] == .int(1002))
            #expect(error.message.contains("key"))
            #expect(h.fake.createCount == 0)
        }
    }

    @Test func anExpiredTokenIsRefusedWith1004() async throws {
        try await withKling(now: { Int64(Date().timeIntervalSince1970) - 3600 }) { h in
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.failureClass == .permanent)
            #expect(error.detail?["code"] == .int(1004))
        }
    }

    @Test func aTokenNotYetValidIsRefusedWith1003() async throws {
        try await withKling(now: { Int64(Date().timeIntervalSince1970) + 600 }) { h in
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.detail?["code"] == .int(1003))
        }
    }

    @Test func anUnknownAccessKeyIsRefused() async throws {
        try await withKling(accessKey: "ak-someone-else") { h in
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.detail?["code"] == .int(1002))
        }
    }

    @Test func aRequestWithoutAuthorizationIsRefusedWith1001() async throws {
        try await withKling { h in
            _ = try pending(try await h.generate(request))
            let task = try #require(h.fake.tasks.first)
            try await HTTPClient.withRunningClient(logger: Logger(label: "reeld.kling.test")) { client in
                do throws(HTTPError) {
                    _ = try await client.execute(HTTPRequest(url: h.fake.baseURL + "/v1/videos/text2video/" + task.id))
                    Issue.record("answered without a token")
                } catch {
                    #expect(error.status == 401)
                    guard case .status(let failure) = error.kind else {
                        Issue.record("not a status error: \(error)")
                        return
                    }
                    #expect(failure.error?.code == "1001")
                }
            }
        }
    }
}
