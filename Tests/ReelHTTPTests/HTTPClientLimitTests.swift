import Crypto
import Foundation
import Logging
import ReelHTTP
import ReelLoopbackHTTP
import Synchronization
import Testing

@Suite(.timeLimit(.minutes(1))) struct HTTPClientLimitTests {
    @Test func totalTimeoutEndsAnUnansweredRequest() async throws {
        try await withServer({ _, connection in
            _ = connection.waitUntilClosed(timeout: .seconds(30))
        }) { server, client in
            let options = HTTPRequestOptions(totalTimeout: .milliseconds(300), lowSpeed: nil)
            let error = try #require(await failure { try await client.execute(HTTPRequest(url: server.baseURL + "/slow", options: options)) })
            #expect(error.timeout == .total)
            #expect(error.certainlyNotAccepted == false)
        }
    }

    @Test func lowSpeedAbortEndsAStalledBody() async throws {
        try await withServer({ _, connection in
            connection.writeHead(status: 200, headers: [("Content-Length", "1000000")])
            connection.write(pattern(100))
            _ = connection.waitUntilClosed(timeout: .seconds(30))
        }) { server, client in
            let options = HTTPRequestOptions(totalTimeout: .seconds(30), lowSpeed: .init(bytesPerSecond: 1000, window: .seconds(1)))
            let error = try #require(await failure { try await client.execute(HTTPRequest(url: server.baseURL + "/stall", options: options)) })
            #expect(error.timeout == .lowSpeed)
        }
    }

    @Test func bodyOverTheLimitIsRefusedWithOrWithoutContentLength() async throws {
        try await withServer({ request, connection in
            if request.path == "/chunked" {
                connection.writeHead(status: 200, headers: [("Transfer-Encoding", "chunked")])
                for _ in 0..<32 {
                    let chunk = pattern(65536)
                    guard connection.write(Array((String(chunk.count, radix: 16) + "\r\n").utf8) + chunk + [13, 10]) else { return }
                }
                connection.write(Array("0\r\n\r\n".utf8))
            } else {
                connection.respond(status: 200, body: pattern(2 << 20))
            }
        }) { server, client in
            let options = HTTPRequestOptions(maxBodyBytes: 1 << 20)
            for path in ["/sized", "/chunked"] {
                let error = try #require(await failure { try await client.execute(HTTPRequest(url: server.baseURL + path, options: options)) })
                #expect(error.tooLargeLimit == 1 << 20, "\(path): \(error)")
            }
            let fits = try await client.execute(HTTPRequest(url: server.baseURL + "/sized", options: HTTPRequestOptions(maxBodyBytes: 2 << 20)))
            #expect(fits.body.count == 2 << 20)
        }
    }

    @Test func bodyShorterThanItsContentLengthIsAnError() async throws {
        try await withServer({ _, connection in
            connection.writeHead(status: 200, headers: [("Content-Length", "1000")])
            connection.write(pattern(10))
            connection.close()
        }) { server, client in
            let error = try #require(await failure { try await client.execute(HTTPRequest(url: server.baseURL + "/cut")) })
            #expect(error.isNetwork, "\(error)")
            #expect(error.description.contains("ended early"))
            #expect(error.certainlyNotAccepted == false)
        }
    }

    @Test func downloadStreamsToAFileWithItsSHA256() async throws {
        let content = pattern(5 << 20 + 123)
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await withServer({ _, connection in
            connection.respond(status: 200, headers: [("Content-Type", "video/mp4")], body: content)
        }) { server, client in
            let file = directory.appendingPathComponent("clip.mp4")
            let download = try await client.download(HTTPRequest(url: server.baseURL + "/files/clip.mp4"), to: file, maxBytes: 8 << 20)
            #expect(download.byteCount == Int64(content.count))
            #expect(download.sha256 == SHA256.hash(data: content).map { String(format: "%02x", $0) }.joined())
            #expect(download.contentType == "video/mp4")
            #expect(try Data(contentsOf: file) == Data(content))
            #expect(!FileManager.default.fileExists(atPath: file.path + ".part"))
        }
    }

    /// Bytes wait for the disk in a bounded buffer: with one far smaller than the files, the
    /// downloads pause and resume many times, side by side, and still hash and land intact.
    @Test func downloadsThroughASmallBufferPauseAndStayIntact() async throws {
        let contents = [pattern(3 << 20 + 7), Array(pattern(2 << 20 + 65_537).reversed()), pattern(1 << 20)]
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try LoopbackServer { request, connection in
            let index = Int(request.path.dropFirst("/f".count)) ?? 0
            connection.respond(status: 200, body: contents[index])
        }
        defer { server.stop() }
        let configuration = HTTPClient.Configuration(proxies: ProxySettings(), downloadBufferBytes: 64 << 10)
        try await HTTPClient.withRunningClient(configuration: configuration, logger: Logger(label: "reeld.http.test")) { client in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, content) in contents.enumerated() {
                    group.addTask {
                        let file = directory.appendingPathComponent("f\(index)")
                        let download = try await client.download(HTTPRequest(url: server.baseURL + "/f\(index)"), to: file, maxBytes: 8 << 20)
                        #expect(download.byteCount == Int64(content.count))
                        #expect(download.sha256 == SHA256.hash(data: content).map { String(format: "%02x", $0) }.joined())
                        #expect(try Data(contentsOf: file) == Data(content))
                    }
                }
                try await group.waitForAll()
            }
        }
    }

    @Test func downloadCapStopsMidStreamAndLeavesNoFile() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let total = 64 << 20
        let sent = Signal<Int>()
        try await withServer({ request, connection in
            if request.path == "/announced" {
                connection.respond(status: 200, body: pattern(4 << 20))
                return
            }
            // No Content-Length: only counting the bytes as they come can stop this one.
            connection.writeHead(status: 200, headers: [("Transfer-Encoding", "chunked")])
            var written = 0
            let chunk = pattern(65536)
            let framed = Array((String(chunk.count, radix: 16) + "\r\n").utf8) + chunk + [13, 10]
            while written < total, connection.write(framed) { written += chunk.count }
            if written >= total { connection.write(Array("0\r\n\r\n".utf8)) }
            sent.signal(written)
        }) { server, client in
            let file = directory.appendingPathComponent("video.mp4")
            let error = try #require(await failure { try await client.download(HTTPRequest(url: server.baseURL + "/stream"), to: file, maxBytes: 1 << 20) })
            #expect(error.tooLargeLimit == 1 << 20)
            #expect(!FileManager.default.fileExists(atPath: file.path))
            #expect(!FileManager.default.fileExists(atPath: file.path + ".part"))
            // The server could not send it all: the client hung up mid-stream.
            let written = try #require(await sent.wait())
            #expect(written < total)

            let announced = try #require(await failure { try await client.download(HTTPRequest(url: server.baseURL + "/announced"), to: file, maxBytes: 1 << 20) })
            #expect(announced.tooLargeLimit == 1 << 20)
            #expect(!FileManager.default.fileExists(atPath: file.path + ".part"))
        }
    }

    @Test func downloadOfAnErrorStatusKeepsTheBodyOutOfTheFile() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await withServer({ _, connection in
            connection.respond(status: 404, text: #"{"error": {"code": 404, "message": "file not found", "status": "NOT_FOUND"}}"#)
        }) { server, client in
            let file = directory.appendingPathComponent("gone.mp4")
            let error = try #require(await failure { try await client.download(HTTPRequest(url: server.baseURL + "/files/gone"), to: file, maxBytes: 1 << 20) })
            #expect(error.status == 404)
            #expect(error.statusFailure?.error?.message == "file not found")
            #expect(!FileManager.default.fileExists(atPath: file.path))
        }
    }
}
