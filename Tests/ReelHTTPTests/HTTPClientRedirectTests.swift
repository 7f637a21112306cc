import Foundation
import ReelHTTP
import ReelLoopbackHTTP
import Synchronization
import Testing

@Suite(.timeLimit(.minutes(1))) struct HTTPClientRedirectTests {
    /// `/to?<location>` redirects there; `/final` answers and records the headers it got.
    static func redirecting(_ seen: LoopbackState<[String: String]>) -> LoopbackServer.Handler {
        { request, connection in
            if request.path == "/to" {
                let location = String(request.target.dropFirst("/to?".count)).removingPercentEncoding ?? ""
                connection.respond(status: 302, headers: [("Location", location)], text: "moved")
            } else {
                seen.withLock { seen in for header in request.headers { seen[header.name.lowercased()] = header.value } }
                connection.respond(status: 200, text: "the file")
            }
        }
    }

    static func to(_ server: LoopbackServer, _ location: String) -> String {
        server.baseURL + "/to?" + location.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
    }

    @Test func redirectIsFollowedOnlyWhenTheRequestAsks() async throws {
        let seen = LoopbackState<[String: String]>([:])
        try await withServer(Self.redirecting(seen)) { server, client in
            let url = Self.to(server, "/final")
            let refused = try #require(await failure { try await client.execute(HTTPRequest(url: url)) })
            #expect(refused.status == 302)
            let followed = try await client.execute(HTTPRequest(url: url, options: HTTPRequestOptions(redirects: .follow(max: 3))))
            #expect(followed.status == 200)
            #expect(followed.body == Array("the file".utf8))
            #expect(followed.url.hasSuffix("/final"))
        }
    }

    @Test func redirectNeverChangesTheScheme() async throws {
        let seen = LoopbackState<[String: String]>([:])
        try await withServer(Self.redirecting(seen)) { server, client in
            let follow = HTTPRequestOptions(redirects: .follow(max: 3))
            for location in ["https://127.0.0.1:\(server.port)/final", "ftp://127.0.0.1/final", "http://example.com/final", "file:///etc/passwd"] {
                let error = try #require(await failure { try await client.execute(HTTPRequest(url: Self.to(server, location), options: follow)) }, "\(location)")
                #expect(error.isRefused, "\(location): \(error)")
            }
            #expect(seen.value.isEmpty)
        }
    }

    @Test func redirectToAnotherHostLeavesSecretHeadersBehind() async throws {
        let seen = LoopbackState<[String: String]>([:])
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await withServer(Self.redirecting(seen)) { server, client in
            var headers = HTTPHeaders()
            headers.add("x-goog-api-key", "AIza-test-key")
            headers.add("x-trace", "t1")
            let request = HTTPRequest(url: Self.to(server, "http://localhost:\(server.port)/final"), headers: headers, options: HTTPRequestOptions(redirects: .follow(max: 3)))
            let download = try await client.download(request, to: directory.appendingPathComponent("video.mp4"), maxBytes: 1 << 20)
            #expect(download.byteCount == 8)
            #expect(seen.value["x-trace"] == "t1")
            #expect(seen.value["x-goog-api-key"] == nil)
        }
    }

    @Test func redirectsStopAtTheirLimit() async throws {
        try await withServer({ request, connection in
            connection.respond(status: 302, headers: [("Location", "/loop")], text: "again")
        }) { server, client in
            let error = try #require(await failure { try await client.execute(HTTPRequest(url: server.baseURL + "/loop", options: HTTPRequestOptions(redirects: .follow(max: 2)))) })
            #expect(error.isRefused)
        }
    }
}
