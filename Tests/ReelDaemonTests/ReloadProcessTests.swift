import Foundation
import Glibc
import ReelDB
import ReelTestSupport
import Testing

extension ProcessTests.ReloadProcessTests {
    /// A free user's video limits, as the claim reads them.
    struct VideoLimit: Sendable, Equatable, CustomStringConvertible {
        var concurrent: Int?
        var perMinute: Int?
        var description: String { "concurrent \(concurrent.map(String.init) ?? "unlimited"), per minute \(perMinute.map(String.init) ?? "unlimited")" }
    }

    func freeVideoLimit(in database: Database) async throws -> VideoLimit {
        let row = try await database.query(
            "select max_running, per_minute from reeld.tier_limits where tier = 'free' and job_class = 'video'")[0]
        return VideoLimit(concurrent: try row.optionalInt("max_running"), perMinute: try row.optionalInt("per_minute"))
    }

    /// Config text for the free tier's video limits (the shipped defaults are 1 and 4).
    static func freeVideo(concurrent: Int, perMinute: Int, extra: String = "") -> String {
        """
        [tiers.free]
        concurrent = { video = \(concurrent)\(extra) }
        per_minute = { video = \(perMinute) }
        """
    }

    /// `CLOCK_MONOTONIC` in microseconds, the clock `MONOTONIC_USEC` is read from.
    static func monotonicMicroseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
    }

    /// Datagrams from the notify socket, in order, up to and including the first that `last`
    /// accepts. Others (STATUS every 10 s) may come in between and are kept.
    static func datagrams(
        on socket: NotifySocket, until last: (Set<String>) -> Bool, timeout: Duration, node: ReeldProcess
    ) async throws -> [Set<String>] {
        var received: [Set<String>] = []
        try await Poll.until("a notification on the socket", timeout: timeout, interval: .milliseconds(1),
                             context: { "received: \(received)\n\(node.process.stderrTail())" }) {
            guard let datagram = socket.receive(timeout: .milliseconds(100)) else {
                // Fail at once, with its log, if the node ended (the default action of SIGHUP).
                if let ended = node.process.termination {
                    throw ChildProcess.Failure("\(node.process.label) ended (\(ended)); heard: \(received)\n\(node.process.stderrTail())")
                }
                return false
            }
            let states = Set(datagram.split(separator: "\n").map(String.init))
            received.append(states)
            return last(states)
        }
        return received
    }

    /// Starts a node with the free tier's video limits at 3 and 7 and waits for its READY=1.
    func startNode(
        _ name: String, url: String, socket: NotifySocket, in directory: TemporaryDirectory
    ) async throws -> ReeldProcess {
        var settings = ReeldProcess.Settings(nodeName: name, databaseURL: url, directory: directory.appending(name))
        settings.extraConfig = Self.freeVideo(concurrent: 3, perMinute: 7)
        let node = try ReeldProcess(settings, label: name, environment: ["NOTIFY_SOCKET": socket.path])
        _ = try await Self.datagrams(on: socket, until: { $0.contains("READY=1") }, timeout: .seconds(30), node: node)
        return node
    }

    /// Sends SIGHUP and returns what systemd heard until READY=1, checking that RELOADING=1
    /// came first, with a `MONOTONIC_USEC` of a moment between the signal and READY=1.
    func reload(_ node: ReeldProcess, socket: NotifySocket) async throws -> (reloading: Set<String>, ready: Set<String>) {
        let sent = Self.monotonicMicroseconds()
        node.process.send(SIGHUP)
        let heard = try await Self.datagrams(on: socket, until: { $0.contains("READY=1") }, timeout: .seconds(20), node: node)
        let readyAt = Self.monotonicMicroseconds()
        let reloading = try #require(heard.first { $0.contains("RELOADING=1") }, "no RELOADING=1 before READY=1: \(heard)")
        let stamp = try #require(reloading.first { $0.hasPrefix("MONOTONIC_USEC=") }, "RELOADING=1 without MONOTONIC_USEC: \(reloading)")
        let usec = try #require(Int64(stamp.dropFirst("MONOTONIC_USEC=".count)))
        #expect(usec >= sent && usec <= readyAt, "MONOTONIC_USEC=\(usec) is not between the signal (\(sent)) and READY=1 (\(readyAt))")
        return (reloading, heard.last!)
    }

    @Test func sighupAppliesNewTierLimitsAndLogLevelWithoutRestartingAndNamesWhatNeedsARestart() async throws {
        let directory = try TemporaryDirectory(prefix: "reeld-reload")
        defer { directory.remove() }
        let url = try TestDatabase.makeDatabase()
        let database = Database(configuration: .init(url: url, maxConnections: 2), logger: TestDatabase.logger)
        defer { database.close() }
        let socket = try NotifySocket()
        let node = try await startNode("reloaded", url: url, socket: socket, in: directory)
        defer { node.process.killAndReap() }
        #expect(try await freeVideoLimit(in: database) == VideoLimit(concurrent: 3, perMinute: 7))

        var changed = node.settings
        changed.extraConfig = Self.freeVideo(concurrent: 5, perMinute: 9)
        changed.logLevel = "debug"
        changed.workers = node.settings.workers + 2
        try node.rewriteConfig(changed)
        #expect(!node.process.standardError.contains("level=debug"), "debug lines at level info")
        let pid = node.process.pid
        let (_, ready) = try await reload(node, socket: socket)

        #expect(node.process.termination == nil, "the node ended on SIGHUP: \(node.process.stderrTail())")
        #expect(node.process.pid == pid)
        #expect(ready.contains("STATUS=ready; configuration reloaded, restart to apply queue.workers"), "\(ready)")
        #expect(try await freeVideoLimit(in: database) == VideoLimit(concurrent: 5, perMinute: 9))
        let log = node.process.standardError
        #expect(log.contains(#"msg="Configuration reloaded""#) && log.contains("changed=\"tiers, log.level\""), "\(node.process.stderrTail())")
        #expect(log.contains(#"level=warning msg="Changed settings take effect only after a restart""#) && log.contains("keys=queue.workers"),
                "\(node.process.stderrTail())")

        // The node lives on: still alive a moment later, and it still stops cleanly. The level
        // went from info to debug without a restart, so the group's debug line on SIGTERM is logged.
        try await Task.sleep(for: .milliseconds(300))
        #expect(node.process.termination == nil)
        node.process.send(SIGTERM)
        #expect(try await node.process.waitForExit(timeout: .seconds(15)) == .exited(0), "\(node.process.stderrTail())")
        #expect(node.process.standardError.contains(ProcessTests.signalCaught), "the reloaded log level did not apply: \(node.process.stderrTail())")
    }

    @Test func sighupWithAnInvalidConfigKeepsTheOldSettingsSendsReadyAndALaterGoodReloadApplies() async throws {
        let directory = try TemporaryDirectory(prefix: "reeld-reload-bad")
        defer { directory.remove() }
        let url = try TestDatabase.makeDatabase()
        let database = Database(configuration: .init(url: url, maxConnections: 2), logger: TestDatabase.logger)
        defer { database.close() }
        let socket = try NotifySocket()
        let node = try await startNode("kept", url: url, socket: socket, in: directory)
        defer { node.process.killAndReap() }
        #expect(try await freeVideoLimit(in: database) == VideoLimit(concurrent: 3, perMinute: 7))

        // A valid change beside a misspelt class: nothing of the file may apply.
        var broken = node.settings
        broken.extraConfig = Self.freeVideo(concurrent: 5, perMinute: 9, extra: ", vidoe = 2")
        try node.rewriteConfig(broken)
        let (_, ready) = try await reload(node, socket: socket)

        #expect(node.process.termination == nil, "the node ended on SIGHUP: \(node.process.stderrTail())")
        let status = try #require(ready.first { $0.hasPrefix("STATUS=") }, "READY=1 without STATUS: \(ready)")
        #expect(status.hasPrefix("STATUS=reload failed: invalid configuration at \(node.configFile.path):"), "\(status)")
        #expect(status.contains("(tiers.free.concurrent.vidoe)"), "\(status)")
        #expect(try await freeVideoLimit(in: database) == VideoLimit(concurrent: 3, perMinute: 7))
        let failure = try #require(node.process.standardError.split(separator: "\n").first { $0.contains("Configuration reload failed") },
                                   "\(node.process.stderrTail())")
        #expect(failure.contains("level=error") && failure.contains(node.configFile.path) && failure.contains("tiers.free.concurrent.vidoe: unknown key"),
                "\(failure)")

        // Still serving reloads: the corrected file applies.
        var fixed = node.settings
        fixed.extraConfig = Self.freeVideo(concurrent: 5, perMinute: 9)
        try node.rewriteConfig(fixed)
        let (_, readyAgain) = try await reload(node, socket: socket)
        #expect(readyAgain.contains("STATUS=ready; configuration reloaded"), "\(readyAgain)")
        #expect(try await freeVideoLimit(in: database) == VideoLimit(concurrent: 5, perMinute: 9))

        node.process.send(SIGTERM)
        #expect(try await node.process.waitForExit(timeout: .seconds(15)) == .exited(0), "\(node.process.stderrTail())")
    }
}
