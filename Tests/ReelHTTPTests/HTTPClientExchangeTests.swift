import Foundation
import ReelCore
import ReelHTTP
import ReelLoopbackHTTP
import Testing

@Suite(.timeLimit(.minutes(1))) struct HTTPClientExchangeTests {
    @Test func jsonRoundTripCarriesHeadersBothWays() async throws {
        try await withServer({ request, connection in
            let echo: JSONValue = .object([
                "method": .string(request.method), "path": .string(request.target),
                "authorization": .string(request.header("authorization") ?? ""),
                "custom": .string(request.header("x-custom") ?? ""),
                "content_type": .string(request.header("content-type") ?? ""),
                "body": .string(String(decoding: request.body, as: UTF8.self)),
            ])
            connection.respond(status: 200, headers: [
                ("Content-Type", "application/json"), ("x-request-id", "req_abc123"),
                ("x-ratelimit-remaining-requests", "42"), ("x-ratelimit-reset-requests", "6m0s"),
            ], text: echo.jsonText)
        }) { server, client in
            var headers = HTTPHeaders()
            headers.setBearer("sk-test")
            headers.add("X-Custom", "yes")
            let response = try await client.execute(.json(url: server.baseURL + "/v1/chat?x=1", body: .object(["prompt": .string("hi")]), headers: headers))
            let echo = try response.json()
            #expect(response.status == 200)
            #expect(echo["method"] == .string("POST"))
            #expect(echo["path"] == .string("/v1/chat?x=1"))
            #expect(echo["authorization"] == .string("Bearer sk-test"))
            #expect(echo["custom"] == .string("yes"))
            #expect(echo["content_type"] == .string("application/json"))
            #expect(try JSONValue(parsing: Array((echo["body"]?.stringValue ?? "").utf8)) == .object(["prompt": .string("hi")]))
            #expect(response.requestID == "req_abc123")
            #expect(response.rate.requests?.remaining == 42)
            #expect(response.rate.requests?.reset == .seconds(360))
            #expect(response.headers["content-type"] == "application/json")
        }
    }

    @Test func multipartBodyArrivesAsParts() async throws {
        try await withServer({ request, connection in
            connection.respond(status: 200, headers: [("x-type", request.header("content-type") ?? "")], body: request.body)
        }) { server, client in
            var form = MultipartForm(boundary: "BOUNDARY42")
            form.addField("prompt", "a lion")
            form.addFile("input_reference", filename: "frame.png", contentType: "image/png", data: [0x89, 0x50, 0x4e, 0x47])
            let response = try await client.execute(.multipart(url: server.baseURL + "/v1/videos", form: form))
            #expect(response.headers["x-type"] == "multipart/form-data; boundary=BOUNDARY42")
            let expected = "--BOUNDARY42\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\na lion\r\n"
                + "--BOUNDARY42\r\nContent-Disposition: form-data; name=\"input_reference\"; filename=\"frame.png\"\r\nContent-Type: image/png\r\n\r\n"
            #expect(Array(response.body.prefix(expected.utf8.count)) == Array(expected.utf8))
            #expect(Array(response.body.suffix(4 + 2 + 16)) == [0x89, 0x50, 0x4e, 0x47] + Array("\r\n--BOUNDARY42--\r\n".utf8))
        }
    }

    @Test func tooManyRequestsCarriesRetryAfterSeconds() async throws {
        try await withServer({ _, connection in
            connection.respond(status: 429, headers: [("Retry-After", "7"), ("x-request-id", "req_429")], text: """
                {"error": {"message": "Rate limit reached for requests", "type": "requests", "param": null, "code": "rate_limit_exceeded"}}
                """)
        }) { server, client in
            let error = try #require(await failure { try await client.execute(HTTPRequest(url: server.baseURL + "/v1/videos/1")) })
            #expect(error.status == 429)
            #expect(error.retryAfter == .seconds(7))
            #expect(error.statusFailure?.error?.code == "rate_limit_exceeded")
            #expect(error.statusFailure?.error?.type == "requests")
            #expect(error.requestID == "req_429")
            #expect(error.certainlyNotAccepted == false)
            #expect(error.description.contains("HTTP 429"))
            #expect(error.description.contains("Rate limit reached"))
        }
    }

    @Test func retryAfterAsHTTPDateCountsFromTheServersDate() async throws {
        try await withServer({ _, connection in
            connection.respond(status: 429, headers: [
                ("Date", "Mon, 07 Dec 2026 04:00:00 GMT"), ("Retry-After", "Mon, 07 Dec 2026 04:00:30 GMT"),
            ], text: "slow down")
        }) { server, client in
            let error = try #require(await failure { try await client.execute(HTTPRequest(url: server.baseURL + "/")) })
            #expect(error.status == 429)
            #expect(error.retryAfter == .seconds(30))
            #expect(error.statusFailure?.error == nil)
        }
    }

    @Test func serverErrorIsAStatusWithTheProvidersParsedBody() async throws {
        try await withServer({ _, connection in
            connection.respond(status: 503, text: """
                {"error": {"code": 503, "message": "The model is overloaded. Please try again later.", "status": "UNAVAILABLE",
                 "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "38s"}]}}
                """)
        }) { server, client in
            let error = try #require(await failure { try await client.execute(HTTPRequest(url: server.baseURL + "/v1beta/models/x:generateContent")) })
            let failure = try #require(error.statusFailure)
            #expect(failure.status == 503)
            #expect(failure.error?.type == "UNAVAILABLE")
            #expect(failure.error?.code == "503")
            #expect(failure.error?.message == "The model is overloaded. Please try again later.")
            #expect(error.retryAfter == .seconds(38))
        }
    }

    @Test func providerErrorShapesAreRead() throws {
        let kling = try #require(ProviderErrorBody(parsing: Array(#"{"code":1303,"message":"parallel task over resource pack limit","request_id":"9984d27b"}"#.utf8)))
        #expect(kling.code == "1303")
        #expect(kling.message == "parallel task over resource pack limit")
        #expect(kling.requestID == "9984d27b")
        let eleven = try #require(ProviderErrorBody(parsing: Array(#"{"detail":{"status":"too_many_concurrent_requests","code":"concurrent_limit_exceeded","message":"Too many","request_id":"r1"}}"#.utf8)))
        #expect(eleven.type == "too_many_concurrent_requests")
        #expect(eleven.code == "concurrent_limit_exceeded")
        #expect(eleven.requestID == "r1")
        let fastAPI = try #require(ProviderErrorBody(parsing: Array(#"{"detail":[{"loc":["body","text"],"msg":"field required","type":"value_error.missing"}]}"#.utf8)))
        #expect(fastAPI.message == "field required")
        #expect(ProviderErrorBody(parsing: Array("<html>bad gateway</html>".utf8)) == nil)
    }

    @Test func connectionRefusedIsANetworkErrorAndCertainlyNotAccepted() async throws {
        let closed = try RefusingPort()
        let url = closed.baseURL + "/v1/videos"
        try await HTTPClient.withRunningClient(logger: .init(label: "test")) { client in
            let error = try #require(await failure { try await client.execute(.json(url: url, body: .object([:]))) })
            #expect(error.isNetwork)
            #expect(error.certainlyNotAccepted)
        }
    }

    @Test func plainHTTPIsRefusedExceptToLoopback() async throws {
        try await withServer({ _, connection in connection.respond(status: 204) }) { server, client in
            let refused = try #require(await failure { try await client.execute(HTTPRequest(url: "http://example.com/v1/models")) })
            #expect(refused.isRefused)
            #expect(refused.certainlyNotAccepted)
            let ftp = try #require(await failure { try await client.execute(HTTPRequest(url: "ftp://127.0.0.1/file")) })
            #expect(ftp.isRefused)
            let response = try await client.execute(HTTPRequest(url: server.baseURL + "/ok"))
            #expect(response.status == 204)
        }
    }

    @Test func requestsAfterShutdownFailWithShutdown() async throws {
        let client = HTTPClient(logger: .init(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await client.run() }
            group.cancelAll()
            try await group.waitForAll()
        }
        let error = try #require(await failure { try await client.execute(HTTPRequest(url: "http://127.0.0.1:9/")) })
        guard case .shutdown = error.kind else { Issue.record("expected shutdown, got \(error)"); return }
        #expect(error.certainlyNotAccepted)
    }
}
