import Foundation
import Glibc
import ReelCore
import ReelDB
import ReelQueue
import ReelTestSupport
import Testing

extension ProcessTests.SystemdProcessTests {
    /// The datagrams a node sends to its notify socket, read as they come.
    struct Datagrams {
        let socket: NotifySocket
        var seen: [String] = []

        /// Reads until a datagram matches `condition`, and returns it.
        mutating func next(
            _ what: String, timeout: Duration, node: ReeldProcess, where condition: (String) -> Bool
        ) async throws -> String {
            var found: String?
            try await Poll.until(what, timeout: timeout, interval: .milliseconds(1),
                                 context: { "datagrams: \(seen.suffix(8))\n" + node.process.stderrTail() }) {
                guard let datagram = socket.receive(timeout: .milliseconds(200)) else { return false }
                seen.append(datagram)
                if condition(datagram) { found = datagram }
                return found != nil
            }
            return found!
        }
    }

    static func lines(_ datagram: String) -> [Substring] { datagram.split(separator: "\n") }

    /// The claim loop stuck in a claim that never returns (the jobs table locked by another
    /// session): STATUS goes on, WATCHDOG=1 stops, so systemd would restart the node; once the
    /// claim returns the pings come back.
    @Test func aStuckClaimLoopStopsTheWatchdogPings() async throws {
        let directory = try TemporaryDirectory(prefix: "reeld-watchdog")
        defer { directory.remove() }
        let url = try TestDatabase.makeDatabase()
        let socket = try NotifySocket()
        let settings = ReeldProcess.Settings(nodeName: "watchdog", databaseURL: url, directory: directory.appending("watchdog"))
        // A 3 s watchdog: STATUS (with WATCHDOG=1 while the loops live) every 1.5 s, and the
        // claim loop comes round at least every second.
        let node = try ReeldProcess(settings, label: "watchdog", environment: ["NOTIFY_SOCKET": socket.path, "WATCHDOG_USEC": "3000000"])
        defer { node.process.killAndReap() }
        var datagrams = Datagrams(socket: socket)
        _ = try await datagrams.next("READY=1", timeout: .seconds(30), node: node) { Self.lines($0).contains("READY=1") }
        _ = try await datagrams.next("a first WATCHDOG=1", timeout: .seconds(10), node: node) { Self.lines($0).contains("WATCHDOG=1") }

        let locker = try PostgresConnection(url: url)
        try locker.execute("begin; lock table public.jobs in access exclusive mode")
        // The claimer's claim, or its look at when work is next due after an empty one.
        try await Poll.until("the claim loop to wait for the lock", timeout: .seconds(15), context: { node.process.stderrTail() }) {
            try locker.query("""
                select count(*) as n from pg_stat_activity
                where datname = current_database() and wait_event_type = 'Lock'
                  and (query like '%reeld.claim(%' or query like '%reeld.next_claim_at(%')
                """)[0].int("n") >= 1
        }
        // Counted in the node's own STATUS ticks (1.5 s apart): after three, the stuck claim is
        // older than the 3 s watchdog interval; the three after those must carry no ping.
        var statuses: [String] = []
        while statuses.count < 6 {
            statuses.append(try await datagrams.next("STATUS while the claim is stuck", timeout: .seconds(10), node: node) {
                Self.lines($0).contains { $0.hasPrefix("STATUS=") }
            })
        }
        #expect(statuses.suffix(3).allSatisfy { !Self.lines($0).contains("WATCHDOG=1") }, "\(statuses)")
        #expect(node.process.standardError.contains("watchdog pings withheld"))

        try locker.execute("rollback")
        _ = try await datagrams.next("WATCHDOG=1 once the claim returns", timeout: .seconds(10), node: node) {
            Self.lines($0).contains("WATCHDOG=1")
        }
        node.process.send(SIGTERM)
        #expect(try await node.process.waitForExit(timeout: .seconds(30)) == .exited(0))
    }

    /// A newer reeld migrates the database under a running node (here: a function file this
    /// node does not ship). The node hears of it at once (NOTIFY, not its 60 s timer), says so
    /// in STATUS and the log, lets its running job finish, and claims nothing more.
    @Test func aNodeStopsClaimingWhenTheSchemaBecomesNewerThanItKnows() async throws {
        let directory = try TemporaryDirectory(prefix: "reeld-schema")
        defer { directory.remove() }
        let url = try TestDatabase.makeDatabase()
        let socket = try NotifySocket()
        let settings = ReeldProcess.Settings(nodeName: "older", databaseURL: url, directory: directory.appending("older"))
        let node = try ReeldProcess(settings, label: "older", environment: ["NOTIFY_SOCKET": socket.path])
        defer { node.process.killAndReap() }
        var datagrams = Datagrams(socket: socket)
        _ = try await datagrams.next("READY=1", timeout: .seconds(30), node: node) { Self.lines($0).contains("READY=1") }

        let database = Database(configuration: .init(url: url, maxConnections: 2), logger: TestDatabase.logger)
        defer { database.close() }
        let queue = JobQueue(database: database)
        let running = try await queue.submit(JobSubmission(kind: .sleep, args: ["seconds": 2])).jobID
        try await Poll.until("the sleep job to run", timeout: .seconds(15), context: { node.process.stderrTail() }) {
            try await database.query("select state::text as s from public.jobs where id = $1::uuid", [running])[0].string("s") == "running"
        }

        // The newer reeld's migrations: this node's, and one function file more.
        let newer = directory.appending("newer-migrations")
        try FileManager.default.copyItem(at: TestDatabase.migrationsDirectory, to: newer)
        try Data("create or replace function reeld.newer_reeld() returns int language sql as $$ select 2 $$;\n".utf8)
            .write(to: newer.appendingPathComponent("functions/zz_newer_reeld.sql"))
        #expect(try Migrator(directory: newer, logger: TestDatabase.logger).migrate(url: url).functionsApplied == ["zz_newer_reeld.sql"])

        let status = try await datagrams.next("STATUS saying the node stopped claiming", timeout: .seconds(15), node: node) {
            $0.contains("STATUS=schema is newer than this reeld: stopped claiming")
        }
        #expect(status.contains("running"))
        #expect(node.process.standardError.contains("stopped claiming"))
        #expect(node.process.standardError.contains("functions/zz_newer_reeld.sql"))

        // The job it was running finishes and is recorded.
        try await Poll.until("the running job to complete", timeout: .seconds(15), context: { node.process.stderrTail() }) {
            try await database.query("select state::text as s from public.jobs where id = $1::uuid", [running])[0].string("s") == "completed"
        }
        // A new job stays in the queue: a claiming node picks one up within milliseconds of
        // its NOTIFY; this one has 3 s.
        let waiting = try await queue.submit(JobSubmission(kind: .noop)).jobID
        let deadline = ContinuousClock.now + .seconds(3)
        while ContinuousClock.now < deadline {
            let row = try await database.query("select state::text as s, attempt from public.jobs where id = $1::uuid", [waiting])[0]
            #expect(try row.string("s") == "available" && row.int("attempt") == 0)
            try await Task.sleep(for: .milliseconds(100))
        }
        node.process.send(SIGTERM)
        #expect(try await node.process.waitForExit(timeout: .seconds(30)) == .exited(0))
    }
}
