import Foundation
import Glibc
import Logging
import ReelHTTP
import ReelLoopbackHTTP
import Synchronization

/// `reeld bench providers`: ReelHTTP's client against a loopback server that runs in a child
/// process (`--serve`), so the RSS figures are the client's alone. Prints the client's overhead
/// per call (the server's own time subtracted), the memory of one client holding many pending
/// requests, a large download against the `curl` command on the same URL, and the memory of a
/// whole node holding many pending video tasks (``NodeTasksBenchmark``, in a child of its own).
public struct ProviderBenchmark: Sendable {
    public var calls: Int
    public var pending: Int
    public var downloadBytes: Int64
    public var runs: Int
    public var directory: URL
    /// This executable, to start the server and the node in.
    public var executable: String
    /// The node figure: video tasks, the node's workers, polls each video answers `in_progress`.
    public var node: NodeOptions

    public struct NodeOptions: Sendable {
        public var tasks: Int
        public var workers: Int
        public var pendingPolls: Int
        public var migrations: URL

        public init(tasks: Int, workers: Int, pendingPolls: Int, migrations: URL) {
            self.tasks = tasks
            self.workers = workers
            self.pendingPolls = pendingPolls
            self.migrations = migrations
        }
    }

    public init(calls: Int, pending: Int, downloadBytes: Int64, runs: Int, directory: URL, executable: String, node: NodeOptions) {
        self.calls = calls
        self.pending = pending
        self.downloadBytes = downloadBytes
        self.runs = max(1, runs)
        self.directory = directory
        self.executable = executable
        self.node = node
    }

    public func run(logger: Logger) async throws {
        Self.raiseDescriptorLimit()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = Process()
        server.executableURL = URL(fileURLWithPath: executable)
        server.arguments = ["bench", "providers", "--serve", "--node-polls", String(node.pendingPolls), "--node-tasks", String(node.tasks)]
        let output = Pipe(), input = Pipe()
        server.standardOutput = output
        server.standardInput = input
        try server.run()
        defer {
            try? input.fileHandleForWriting.close()
            server.waitUntilExit()
        }
        guard let line = String(data: output.fileHandleForReading.availableData, encoding: .utf8),
              let port = Int(line.trimmingCharacters(in: .whitespacesAndNewlines).dropFirst("port ".count)) else {
            throw BenchmarkFailure("the benchmark server did not start")
        }
        let base = "http://127.0.0.1:\(port)"
        var defaults = HTTPRequestOptions(totalTimeout: .seconds(600), maxBodyBytes: 1 << 20)
        defaults.lowSpeed = nil
        try await HTTPClient.withRunningClient(configuration: .init(defaults: defaults), logger: logger) { client in
            try await overhead(client, base)
            try await pendingRequests(client, base)
            try await downloads(client, base)
        }
        try nodeTasks(base)
    }

    /// The node figure, run by a child of this executable (``NodeTasksBenchmark``) whose output is printed here.
    private func nodeTasks(_ base: String) throws {
        let (status, text, _) = try RenderBenchmark.spawn(executable, [
            "bench", "providers", "--node-server", base, "--node-tasks", String(node.tasks), "--node-workers", String(node.workers),
            "--migrations", node.migrations.path, "--directory", directory.appendingPathComponent("node").path,
        ])
        print(text, terminator: "")
        guard status == 0 else { throw BenchmarkFailure("the node benchmark failed (exit \(status))") }
    }

    private func overhead(_ client: HTTPClient, _ base: String) async throws {
        var overheads: [Double] = [], roundTrips: [Double] = []
        var cpuBefore = 0.0
        for i in 0..<(calls + 200) {
            if i == 200 { cpuBefore = Self.cpuSeconds() }
            let started = ContinuousClock.now
            let response = try await client.execute(HTTPRequest(url: base + "/tiny"))
            let wall = (ContinuousClock.now - started).microseconds
            guard i >= 200 else { continue }  // warm-up: connection, handles, allocator
            roundTrips.append(wall)
            overheads.append(wall - (Double(response.headers["x-server-ns"] ?? "0") ?? 0) / 1000)
        }
        let cpu = (Self.cpuSeconds() - cpuBefore) / Double(calls) * 1e6
        overheads.sort()
        print(String(format: "overhead per call (%d sequential GETs, keep-alive, server time subtracted): p50 %.0f µs, p99 %.0f µs (round trip p50 %.0f µs); client CPU %.0f µs per call  [target p99 ≤ 1000 µs]",
                     calls, overheads.percentile(0.5), overheads.percentile(0.99), roundTrips.median, cpu))
        var load = [0.0, 0.0, 0.0]
        if getloadavg(&load, 3) == 3 { print(String(format: "  (load average %.1f on %d cores: on a busy machine the wall figures carry its scheduling delays; CPU per call does not)", load[0], ProcessInfo.processInfo.activeProcessorCount)) }
    }

    private func pendingRequests(_ client: HTTPClient, _ base: String) async throws {
        let before = Self.residentKiB()
        let started = ContinuousClock.now
        var held = 0
        let peak = try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<pending {
                group.addTask { _ = try await client.execute(HTTPRequest(url: base + "/hold?\(i)")) }
            }
            var peak = Self.residentKiB()
            while held < pending {
                try await Task.sleep(for: .milliseconds(20))
                held = Int(String(decoding: try await client.execute(HTTPRequest(url: base + "/held")).body, as: UTF8.self)) ?? 0
                peak = max(peak, Self.residentKiB())
            }
            peak = max(peak, Self.residentKiB())
            _ = try await client.execute(HTTPRequest(url: base + "/release"))
            try await group.waitForAll()
            return peak
        }
        print(String(format: "%d requests pending at once on one client: RSS +%.1f MB while held (from %.1f MB), all answered %.2f s after the first was sent  [target ≤ 50 MB]",
                     pending, Double(peak - before) / 1024, Double(before) / 1024, (ContinuousClock.now - started).seconds))
    }

    private func downloads(_ client: HTTPClient, _ base: String) async throws {
        let url = base + "/bytes?\(downloadBytes)"
        let file = directory.appendingPathComponent("reeld.bin")
        let curl = RenderBenchmark.findOnPath("curl")
        var ours: [Double] = [], theirs: [Double] = [], growth: [Double] = []
        for _ in 0..<runs {
            let before = Self.residentKiB()
            let peak = LoopbackState(before)
            let started = ContinuousClock.now
            let download = try await withThrowingTaskGroup(of: HTTPDownload?.self) { group in
                group.addTask {
                    while !Task.isCancelled {
                        let now = Self.residentKiB()
                        peak.withLock { $0 = Swift.max($0, now) }
                        try? await Task.sleep(for: .milliseconds(25))
                    }
                    return nil
                }
                let download = try await client.download(HTTPRequest(url: url), to: file, maxBytes: downloadBytes)
                group.cancelAll()
                return download
            }
            let seconds = (ContinuousClock.now - started).seconds
            guard download.byteCount == downloadBytes else { throw BenchmarkFailure("the download came short") }
            try? FileManager.default.removeItem(at: file)
            ours.append(Double(downloadBytes) / seconds / 1e6)
            growth.append(Double(peak.value - before) / 1024)
            if let curl {
                let target = directory.appendingPathComponent("curl.bin")
                let curlStarted = ContinuousClock.now
                let (status, text, _) = try RenderBenchmark.spawn(curl, ["-s", "-S", "-f", "-o", target.path, url])
                guard status == 0 else { throw BenchmarkFailure("curl failed: \(text)") }
                theirs.append(Double(downloadBytes) / (ContinuousClock.now - curlStarted).seconds / 1e6)
                try? FileManager.default.removeItem(at: target)
            }
        }
        let size = String(format: "%.2f GB", Double(downloadBytes) / 1e9)
        print(String(format: "%@ download to a file with SHA-256 (median of %d): %.0f MB/s, RSS +%.1f MB (most %.1f)  [target ≤ 20 MB]",
                     size, runs, ours.median, growth.median, growth.max() ?? 0))
        if curl != nil {
            print(String(format: "curl command, same URL, to a file: %.0f MB/s; reeld / curl: %.0f %%  [target ≥ 80 %%]", theirs.median, 100 * ours.median / theirs.median))
        } else {
            print("curl command: not installed, no comparison")
        }
    }

    // MARK: The server (child process)

    /// `reeld bench providers --serve`: prints "port N", serves until its stdin closes. Videos
    /// answer `in_progress` until `videos` exist, then to `pendingPolls` more polls.
    public static func serve(pendingPolls: Int, videos expected: Int) throws {
        raiseDescriptorLimit()
        let held = LoopbackState(0)
        let release = DispatchSemaphore(value: 0)
        let block = [UInt8](repeating: 0x5a, count: 1 << 20)
        let videos = try VideoAPIStandIn(pendingPolls: pendingPolls, expected: expected)
        let server = try LoopbackServer { request, connection in
            if videos.handle(request, connection) { return }
            switch request.path {
            case "/tiny":
                let body = Array(#"{"id":"video_123","status":"in_progress","progress":42}"#.utf8)
                let own = (ContinuousClock.now - request.receivedAt).nanoseconds
                connection.respond(status: 200, headers: [("Content-Type", "application/json"), ("x-server-ns", String(own))], body: body)
            case "/hold":
                held.withLock { $0 += 1 }
                release.wait()
                connection.respond(status: 200, text: #"{"status":"completed"}"#)
            case "/held":
                connection.respond(status: 200, text: String(held.withLock { $0 }))
            case "/release":
                let count = held.withLock { count in
                    defer { count = 0 }
                    return count
                }
                for _ in 0..<count { release.signal() }
                connection.respond(status: 200, text: "released \(count)")
            case "/bytes":
                let total = Int(request.target.split(separator: "?").last ?? "") ?? 0
                connection.writeHead(status: 200, headers: [("Content-Type", "application/octet-stream"), ("Content-Length", String(total))])
                var left = total
                block.withUnsafeBytes { bytes in
                    while left > 0, connection.write(UnsafeRawBufferPointer(rebasing: bytes.prefix(min(left, bytes.count)))) {
                        left -= min(left, bytes.count)
                    }
                }
            default:
                connection.respond(status: 404)
            }
        }
        print("port \(server.port)")
        fflush(nil)
        while let _ = readLine() {}
        server.stop()
    }

    // MARK: Measuring

    /// This process's CPU time, user and system, all threads.
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    static func residentKiB() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return 0 }
        return Int(line.split(separator: " ")[1]) ?? 0
    }

    /// A thousand connections need a thousand descriptors on each side.
    static func raiseDescriptorLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        limit.rlim_cur = limit.rlim_max
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}

struct BenchmarkFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension Duration {
    var microseconds: Double { Double(components.seconds) * 1e6 + Double(components.attoseconds) / 1e12 }
    var nanoseconds: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }
}

extension Array where Element == Double {
    /// The value below which `fraction` of the sorted samples lie.
    func percentile(_ fraction: Double) -> Double {
        guard !isEmpty else { return 0 }
        return self[Swift.min(count - 1, Int(Double(count) * fraction))]
    }
}
