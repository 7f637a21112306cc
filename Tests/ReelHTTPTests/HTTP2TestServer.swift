import Foundation
import Glibc

/// An HTTP/2 server over TLS (Node's `http2` module) with a certificate made for the test. It
/// holds every answer until `streams` requests are open, then tells each request over how many
/// connections (sessions) they came and which protocol version was spoken.
final class HTTP2TestServer {
    static let node = ["/usr/bin/node", "/usr/local/bin/node"].first { FileManager.default.isExecutableFile(atPath: $0) }

    let directory: URL
    let certificate: String
    let port: Int
    private let process: Process

    private static let script = """
        const http2 = require('http2'); const fs = require('fs');
        const [cert, key, wanted] = process.argv.slice(1);
        let sessions = 0; const waiting = [];
        const server = http2.createSecureServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) });
        server.on('session', () => { sessions += 1; });
        server.on('request', (req, res) => {
          waiting.push([req, res]);
          if (waiting.length < Number(wanted)) return;
          for (const [q, r] of waiting.splice(0)) {
            r.writeHead(200, { 'content-type': 'application/json' });
            r.end(JSON.stringify({ version: q.httpVersion, sessions: sessions, path: q.url }));
          }
        });
        server.listen(0, '127.0.0.1', () => { console.log('PORT ' + server.address().port); });
        process.stdin.on('end', () => process.exit(0)); process.stdin.resume();
        """

    init(streams: Int) throws {
        guard let node = Self.node else { throw TLSTestServerError("node is not installed") }
        directory = try temporaryDirectory()
        certificate = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        try TLSTestServer.makeCertificate(certificate, key: key)
        process = Process()
        process.executableURL = URL(fileURLWithPath: node)
        process.arguments = ["-e", Self.script, certificate, key, String(streams)]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = Pipe()
        try process.run()
        var text = ""
        var found: Int?
        while found == nil {
            let data = output.fileHandleForReading.availableData
            guard !data.isEmpty else { break }
            text += String(decoding: data, as: UTF8.self)
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("PORT ") }) { found = Int(line.dropFirst(5)) }
        }
        guard let found else {
            kill(process.processIdentifier, SIGKILL)
            throw TLSTestServerError("the HTTP/2 server did not start: \(text)")
        }
        port = found
    }

    var baseURL: String { "https://127.0.0.1:\(port)" }

    func stop() { TLSTestServer.stop(process, removing: directory) }
}
