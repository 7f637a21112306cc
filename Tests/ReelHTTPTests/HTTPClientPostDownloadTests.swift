import Foundation
import ReelHTTP
import ReelLoopbackHTTP
import Synchronization
import Testing

/// Providers that answer a POST with the media itself (ElevenLabs: speech, sound, music) stream
/// that answer to a file like any download: the request's body is sent, the answer never held.
@Suite(.timeLimit(.minutes(1))) struct HTTPClientPostDownloadTests {
    @Test func aPostDownloadSendsItsBodyAndStreamsTheAnswerToTheFile() async throws {
        let content = pattern(3 << 20 + 17)
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let received = Mutex<(method: String, body: [UInt8], type: String?)?>(nil)
        try await withServer({ request, connection in
            received.withLock { $0 = (request.method, request.body, request.header("content-type")) }
            connection.respond(status: 200, headers: [("Content-Type", "audio/mpeg")], body: content)
        }) { server, client in
            let request = HTTPRequest.json(url: server.baseURL + "/v1/music", body: ["prompt": "a calm piano", "music_length_ms": 10000])
            let file = directory.appendingPathComponent("music.mp3")
            let download = try await client.download(request, to: file, maxBytes: 8 << 20)
            #expect(download.byteCount == Int64(content.count))
            #expect(try Data(contentsOf: file) == Data(content))
            let seen = try #require(received.withLock { $0 })
            #expect(seen.method == "POST")
            #expect(seen.type == "application/json")
            #expect(String(decoding: seen.body, as: UTF8.self).contains("\"music_length_ms\":10000"))
        }
    }

    @Test func aPostDownloadOverItsCapStopsAndLeavesNoFile() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await withServer({ _, connection in
            // No Content-Length: the cap must be enforced as the bytes arrive.
            connection.writeHead(status: 200, headers: [("Content-Type", "audio/mpeg"), ("Connection", "close")])
            for _ in 0..<64 { guard connection.write(pattern(64 << 10)) else { break } }
            connection.close()
        }) { server, client in
            let request = HTTPRequest.json(url: server.baseURL + "/v1/music", body: ["prompt": "long"])
            let file = directory.appendingPathComponent("music.mp3")
            let error = try #require(await failure { try await client.download(request, to: file, maxBytes: 1 << 20) })
            #expect(error.tooLargeLimit == 1 << 20)
            #expect(!FileManager.default.fileExists(atPath: file.path))
            #expect(!FileManager.default.fileExists(atPath: file.path + ".part"))
        }
    }
}
