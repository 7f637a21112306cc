import Foundation
import Glibc

/// `openssl s_server -WWW` on 127.0.0.1 with a certificate made for the test (`openssl req`,
/// self-signed, valid for 127.0.0.1 and 127.0.0.2), serving the files of its directory over
/// HTTPS: a real TLS peer for the client's verification.
final class TLSTestServer {
    let directory: URL
    /// The certificate, which is its own CA: trusted only when configured.
    let certificate: String
    let port: Int
    private let process: Process
    private let input = Pipe()

    init() throws {
        directory = try temporaryDirectory()
        certificate = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        try Self.makeCertificate(certificate, key: key)
        try Data("hello over tls\n".utf8).write(to: directory.appendingPathComponent("hello.txt"))
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // Not `-quiet`: that also silences the "ACCEPT 127.0.0.1:PORT" line the port is read
        // from. Its output goes to a file, which never fills up and blocks it as a pipe would.
        process.arguments = ["openssl", "s_server", "-accept", "127.0.0.1:0", "-WWW", "-cert", certificate, "-key", key]
        process.currentDirectoryURL = directory
        let log = directory.appendingPathComponent("s_server.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let output = try FileHandle(forWritingTo: log)
        defer { try? output.close() }
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = input
        try process.run()
        // Polls for the line rather than blocking on a read, so that a server that never
        // starts fails the test instead of hanging it.
        var text = ""
        var found: Int?
        let deadline = ContinuousClock.now + .seconds(20)
        while found == nil, process.isRunning, ContinuousClock.now < deadline {
            text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("ACCEPT ") }), let colon = line.lastIndex(of: ":") {
                found = Int(line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
            } else {
                Thread.sleep(forTimeInterval: 0.01)
            }
        }
        guard let found else {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            throw TLSTestServerError("openssl s_server did not start: \(text)")
        }
        port = found
    }

    var baseURL: String { "https://127.0.0.1:\(port)" }

    func stop() { Self.stop(process, removing: directory) }

    /// SIGKILL, not `terminate()`: the test process's children may inherit a mask that holds
    /// SIGTERM back, and a stop that waits on a live server would hang the suite.
    static func stop(_ process: Process, removing directory: URL) {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }

    /// A self-signed certificate (its own CA) for 127.0.0.1 and 127.0.0.2, and its key.
    static func makeCertificate(_ certificate: String, key: String) throws {
        let made = try run([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", certificate,
            "-days", "2", "-subj", "/CN=reeld test", "-addext", "subjectAltName=IP:127.0.0.1,IP:127.0.0.2",
        ])
        guard made == 0 else { throw TLSTestServerError("openssl req failed") }
    }

    private static func run(_ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}

struct TLSTestServerError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
