import Foundation
import Logging
import ReelHTTP
import ReelLoopbackHTTP
import Testing

/// TLS against a real TLS server (openssl s_server) and proxies on loopback.
@Suite(.timeLimit(.minutes(1))) struct HTTPClientTLSTests {
    let logger = Logger(label: "reeld.http.test")

    @Test func aSelfSignedCertificateIsRefusedWithATLSError() async throws {
        let tls = try TLSTestServer()
        defer { tls.stop() }
        try await HTTPClient.withRunningClient(configuration: .init(proxies: ProxySettings()), logger: logger) { client in
            let error = try #require(await failure { try await client.execute(HTTPRequest(url: tls.baseURL + "/hello.txt")) })
            #expect(error.isNetwork, "\(error)")
            #expect(error.description.contains("certificate"), "\(error)")
            #expect(error.certainlyNotAccepted)
        }
    }

    @Test func aConfiguredCAFileIsTrusted() async throws {
        let tls = try TLSTestServer()
        defer { tls.stop() }
        try await HTTPClient.withRunningClient(configuration: .init(caFile: tls.certificate, proxies: ProxySettings()), logger: logger) { client in
            let response = try await client.execute(HTTPRequest(url: tls.baseURL + "/hello.txt"))
            #expect(response.status == 200)
            #expect(String(decoding: response.body, as: UTF8.self) == "hello over tls\n")
        }
    }

    /// A trusted certificate for another name is still refused: the host name is checked too.
    @Test func aTrustedCertificateForAnotherNameIsRefused() async throws {
        let tls = try TLSTestServer()
        defer { tls.stop() }
        try await HTTPClient.withRunningClient(configuration: .init(caFile: tls.certificate, proxies: ProxySettings()), logger: logger) { client in
            let error = try #require(await failure { try await client.execute(HTTPRequest(url: "https://localhost:\(tls.port)/hello.txt")) })
            #expect(error.isNetwork, "\(error)")
            #expect(error.description.contains("localhost"), "\(error)")
        }
    }

    /// `http_proxy` takes plain http (absolute-URI requests), `https_proxy` https (a CONNECT
    /// tunnel, with the TLS peer verified end to end), `no_proxy` hosts go direct. 127.0.0.2
    /// stands for a remote host: libcurl may reach a `localhost` name directly whatever the
    /// settings.
    @Test func proxiesFromTheEnvironmentAreUsedAsLibcurlReadsThem() async throws {
        let tls = try TLSTestServer()
        defer { tls.stop() }
        let seen = LoopbackState<[String]>([])
        let tlsPort = tls.port
        let proxy = try LoopbackServer { request, connection in
            seen.withLock { $0.append("\(request.method) \(request.target)") }
            if request.method == "CONNECT" {
                connection.tunnel(toPort: tlsPort)
            } else {
                connection.respond(status: 200, text: "via proxy")
            }
        }
        defer { proxy.stop() }
        let direct = try LoopbackServer { _, connection in connection.respond(status: 200, text: "direct") }
        defer { direct.stop() }
        let environment = ["http_proxy": proxy.baseURL, "https_proxy": proxy.baseURL, "no_proxy": "127.0.0.1"]
        let configuration = HTTPClient.Configuration(caFile: tls.certificate, proxies: ProxySettings(environment: environment))
        try await HTTPClient.withRunningClient(configuration: configuration, logger: logger) { client in
            let plain = try await client.execute(HTTPRequest(url: "http://127.0.0.2:8080/plain"))
            #expect(String(decoding: plain.body, as: UTF8.self) == "via proxy")
            #expect(seen.value.contains("GET http://127.0.0.2:8080/plain"))

            let secure = try await client.execute(HTTPRequest(url: "https://127.0.0.2:\(tls.port)/hello.txt"))
            #expect(String(decoding: secure.body, as: UTF8.self) == "hello over tls\n")
            #expect(seen.value.contains("CONNECT 127.0.0.2:\(tls.port)"))

            let before = seen.value.count
            let bypassed = try await client.execute(HTTPRequest(url: direct.baseURL + "/x"))
            #expect(String(decoding: bypassed.body, as: UTF8.self) == "direct")
            #expect(seen.value.count == before)
        }
    }

    /// Over TLS the client offers HTTP/2 (ALPN) and, while the first connection is set up,
    /// waits for it rather than open more: concurrent requests share one connection.
    @Test(.enabled(if: HTTP2TestServer.node != nil, "needs node for an HTTP/2 server"))
    func concurrentRequestsToAnHTTP2ServerShareOneConnection() async throws {
        let streams = 4
        let server = try HTTP2TestServer(streams: streams)
        defer { server.stop() }
        let base = server.baseURL
        try await HTTPClient.withRunningClient(configuration: .init(caFile: server.certificate, proxies: ProxySettings()), logger: logger) { client in
            let answers = try await withThrowingTaskGroup(of: HTTPResponse.self) { group in
                for i in 0..<streams { group.addTask { try await client.execute(HTTPRequest(url: base + "/r\(i)")) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(answers.count == streams)
            for answer in answers {
                let json = try JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any]
                #expect(json?["version"] as? String == "2.0")
                #expect(json?["sessions"] as? Int == 1)
            }
        }
    }

    @Test func proxySettingsReadTheEnvironmentAsLibcurlDoes() {
        // Upper-case HTTP_PROXY is ignored (a CGI request can set it); HTTPS_PROXY is not.
        let upper = ProxySettings(environment: ["HTTP_PROXY": "http://evil:1", "HTTPS_PROXY": "http://p:3128", "NO_PROXY": "internal"])
        #expect(upper.http == nil)
        #expect(upper.https == "http://p:3128")
        #expect(upper.noProxy == "internal")
        let all = ProxySettings(environment: ["all_proxy": "http://a:1", "http_proxy": "http://h:2"])
        #expect(all.http == "http://h:2")
        #expect(all.https == "http://a:1")
        #expect(ProxySettings(environment: [:]) == ProxySettings())
    }
}
