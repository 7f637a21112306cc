import Foundation
import ReelHTTP
import ReelLoopbackHTTP
import Testing

@Suite(.timeLimit(.minutes(1))) struct HTTPClientSecretTests {
    @Test func secretsNeverReachTheErrorOrTheLogs() async throws {
        let bearer = "sk-live-SECRET0123456789"
        let googleKey = "AIzaSyQUERYSECRET42"
        let recorder = LogRecorder()
        try await withServer(logger: recorder.logger, { request, connection in
            // A careless server echoes the credentials it was sent.
            connection.respond(status: 401, headers: [("x-request-id", "req_401")], text: """
                {"error": {"message": "Incorrect API key provided: \(bearer); also \(request.header("x-goog-api-key") ?? "")", "type": "invalid_request_error", "code": "invalid_api_key"}}
                """)
        }) { server, client in
            var headers = HTTPHeaders()
            headers.setBearer(bearer)
            headers.add("x-goog-api-key", googleKey)
            let request = HTTPRequest.json(url: server.baseURL + "/v1beta/models/veo:predict?key=\(googleKey)", body: .object([:]), headers: headers)
            let error = try #require(await failure { try await client.execute(request) })
            #expect(error.status == 401)
            let texts = ["\(error)", String(reflecting: error), error.url, "\(request)", String(reflecting: request), "\(headers)"]
                + recorder.lines.withLock { $0 }
            for text in texts {
                #expect(!text.contains(bearer), "\(text)")
                #expect(!text.contains(googleKey), "\(text)")
            }
            #expect("\(error)".contains("req_401"))
            #expect("\(error)".contains("Incorrect API key provided"))
            #expect(recorder.lines.withLock { $0.contains { $0.contains("req_401") } })
        }
    }
}
