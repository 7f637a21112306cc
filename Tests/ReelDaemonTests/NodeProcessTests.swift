import Foundation
import Glibc
import ReelCore
import ReelDB
import ReelQueue
import ReelTestSupport
import Testing

extension ProcessTests.NodeProcessTests {
    /// The lease the nodes under test use; the heartbeat is 1 s, the rescuer runs every second.
    static let lease = 3.0

    /// One job's row, as the tests need it.
    struct JobRow: Sendable {
        var state: String
        var leaseOwner: String?
        var leaseExpires: Double?
        var attempt: Int
        var errors: [JSONValue]
    }

    func job(_ id: UUID, in database: Database) async throws -> JobRow {
        let row = try await database.query(
            """
            select state::text as state, lease_owner, extract(epoch from lease_expires_at) as lease_expires, attempt, errors
            from public.jobs where id = $1::uuid
            """, [id])[0]
        return JobRow(
            state: try row.string("state"), leaseOwner: try row.optionalString("lease_owner"),
            leaseExpires: try row.optionalDouble("lease_expires"), attempt: try row.int("attempt"),
            errors: try row.json("errors").arrayValue ?? [])
    }

    /// The database's clock, in seconds since 1970: what `errors[].at` and `attempted_at` use.
    func databaseNow(_ database: Database) async throws -> Double {
        try await database.query("select extract(epoch from clock_timestamp()) as now")[0].double("now")
    }

    func settings(_ name: String, url: String, in directory: TemporaryDirectory) -> ReeldProcess.Settings {
        var settings = ReeldProcess.Settings(nodeName: name, databaseURL: url, directory: directory.appending(name))
        settings.leaseSeconds = Int(Self.lease)
        settings.heartbeatSeconds = 1
        settings.rescueIntervalSeconds = 1
        return settings
    }

    /// Waits until `node` holds `id`'s lease.
    func waitUntilRunning(_ id: UUID, on node: ReeldProcess, in database: Database) async throws {
        try await Poll.until("job \(id) to be running on \(node.owner)", timeout: .seconds(30), context: { node.process.stderrTail() }) {
            let row = try await job(id, in: database)
            return row.state == "running" && row.leaseOwner == node.owner
        }
    }

    /// At debug, the service group logs every service it starts. A service's default
    /// description would print its stored properties: the configuration, and for the reload
    /// service the whole environment, where an operator's `Environment=` keys live.
    @Test func debugLogsNameEachServiceWithoutItsConfigurationOrTheEnvironment() async throws {
        let directory = try TemporaryDirectory(prefix: "reeld-describe")
        defer { directory.remove() }
        let url = try TestDatabase.makeDatabase()
        var nodeSettings = settings("describe", url: url, in: directory)
        nodeSettings.logLevel = "debug"
        let secret = "env-secret-\(UUID().uuidString)"
        let node = try ReeldProcess(nodeSettings, label: "describe", environment: ["REELD_TEST_API_KEY": secret])
        defer { node.process.killAndReap() }
        try await node.waitUntilReady()
        node.process.send(SIGTERM)
        _ = try await node.process.waitForExit(timeout: .seconds(30))
        let log = node.process.standardError
        #expect(log.contains(#"sl-service=ReloadService"#))
        #expect(log.contains(#"sl-service=QueueWorker"#))
        #expect(!log.contains(secret))
        #expect(!log.contains(url))
    }

    /// A malformed password makes libpq quote it; neither `reeld run` nor `reeld migrate` may
    /// print it.
    @Test func aMalformedDatabasePasswordIsNeverPrinted() async throws {
        let directory = try TemporaryDirectory(prefix: "reeld-badurl")
        defer { directory.remove() }
        let url = "postgresql://reeld:p%zzsecret@/reeld?host=\(directory.path)"
        for command in ["run", "migrate"] {
            let config = directory.appending("\(command).toml")
            try Data("[database]\nurl = \"\(url)\"\n[log]\nbackend = \"stderr\"\nlevel = \"debug\"\n".utf8).write(to: config)
            let process = try ChildProcess(
                executable: try BuiltProducts.executable("reeld"),
                arguments: [command, "--config", config.path, "--migrations", TestDatabase.migrationsDirectory.path],
                outputDirectory: directory.url, label: "badurl-\(command)")
            let status = try await process.waitForExit(timeout: .seconds(30))
            #expect(status != .exited(0))
            #expect(process.standardError.contains("invalid percent-encoded token"), "\(process.standardError)")
            #expect(!process.standardError.contains("zzsecret") && !process.standardOutput.contains("zzsecret"), "\(process.standardError)")
        }
    }

    /// What reeld logs (at debug) when its service group receives SIGTERM.
    @Test func jobOfAKilledNodeIsRescuedWithinTwoLeasesRecordsTheLostLeaseAndCompletesOnce() async throws {
        let directory = try TemporaryDirectory(prefix: "reeld-rescue")
        defer { directory.remove() }
        let url = try TestDatabase.makeDatabase()
        let database = Database(configuration: .init(url: url, maxConnections: 2), logger: TestDatabase.logger)
        defer { database.close() }

        try await JobEventLog.recording(url: url) { events in
            // Long enough that it is still running on the victim once the rescuer has started.
            let id = try await JobQueue(database: database).submit(JobSubmission(kind: .sleep, args: ["seconds": 4])).jobID
            let victim = try ReeldProcess(settings("victim", url: url, in: directory), label: "victim")
            defer { victim.process.killAndReap() }
            try await waitUntilRunning(id, on: victim, in: database)

            // The rescuer is up before the victim dies, as a second node would be.
            let rescuer = try ReeldProcess(settings("rescuer", url: url, in: directory), label: "rescuer")
            defer { rescuer.process.killAndReap() }
            try await rescuer.waitUntilReady()
            let beforeKill = try await job(id, in: database)
            try #require(beforeKill.state == "running" && beforeKill.leaseOwner == victim.owner,
                         "the job must still run on the victim when it is killed: \(beforeKill)")

            victim.process.send(SIGKILL)
            #expect(try await victim.process.waitForExit(timeout: .seconds(10)) == .signalled(SIGKILL))
            let killedAt = try await databaseNow(database)

            // Rescued, and running again on the rescuer, within two lease periods of the kill.
            try await Poll.until("the rescuer to take the job over", timeout: .seconds(2 * Self.lease + 5),
                                 context: { rescuer.process.stderrTail() }) {
                let row = try await job(id, in: database)
                return row.attempt == 2 && row.leaseOwner == rescuer.owner || row.state == "completed"
            }
            let rescue = try await database.query(
                """
                select extract(epoch from (errors -> 0 ->> 'at')::timestamptz) as rescued_at,
                       extract(epoch from attempted_at) as attempted_at
                from public.jobs where id = $1::uuid
                """, [id])[0]
            let rescuedAfter = try rescue.double("rescued_at") - killedAt
            let reclaimedAfter = try rescue.double("attempted_at") - killedAt
            #expect(rescuedAfter < 2 * Self.lease, "rescued \(rescuedAfter) s after the kill")
            #expect(reclaimedAfter < 2 * Self.lease, "running again \(reclaimedAfter) s after the kill")

            try await Poll.until("the rescued job to complete", timeout: .seconds(30), context: { rescuer.process.stderrTail() }) {
                try await job(id, in: database).state == "completed"
            }
            let done = try await job(id, in: database)
            #expect(done.attempt == 2)
            #expect(done.leaseOwner == nil && done.leaseExpires == nil)
            // The history names the lost lease and the dead node.
            #expect(done.errors.count == 1)
            let lost = done.errors.first?["error"]?.stringValue ?? ""
            #expect(lost.contains("lease expired") && lost.contains(victim.owner), "error history: \(done.errors)")
            #expect(done.errors.first?["attempt"]?.intValue == 1)

            // Exactly one completion was ever published, and it stays that way.
            try await Task.sleep(for: .milliseconds(500))
            #expect(events.states(of: id).filter { $0 == "completed" }.count == 1, "events: \(events.states(of: id))")

            rescuer.process.send(SIGTERM)
            #expect(try await rescuer.process.waitForExit(timeout: .seconds(15)) == .exited(0), "\(rescuer.process.stderrTail())")
        }
    }

    @Test func liveNodeKeepsAJobRunningFarLongerThanItsLease() async throws {
        let directory = try TemporaryDirectory(prefix: "reeld-live")
        defer { directory.remove() }
        let url = try TestDatabase.makeDatabase()
        let database = Database(configuration: .init(url: url, maxConnections: 2), logger: TestDatabase.logger)
        defer { database.close() }
        let seconds = 3 * Self.lease

        try await JobEventLog.recording(url: url) { events in
            let id = try await JobQueue(database: database).submit(JobSubmission(kind: .sleep, args: .object(["seconds": .double(seconds)]))).jobID
            let owner = try ReeldProcess(settings("owner", url: url, in: directory), label: "owner")
            defer { owner.process.killAndReap() }
            try await waitUntilRunning(id, on: owner, in: database)
            // A second node whose rescuer runs every second beside the owner's own.
            let other = try ReeldProcess(settings("other", url: url, in: directory), label: "other")
            defer { other.process.killAndReap() }
            try await other.waitUntilReady()

            // Until it completes, every look finds it running on its owner, first attempt, lease ahead.
            var looks = 0
            var row = try await job(id, in: database)
            let deadline = ContinuousClock.now + .seconds(seconds + 20)
            while row.state != "completed" && ContinuousClock.now < deadline {
                let now = try await databaseNow(database)
                #expect(row.state == "running" && row.leaseOwner == owner.owner && row.attempt == 1 && row.errors.isEmpty,
                        "the live owner's job was touched: \(row)")
                if let expires = row.leaseExpires { #expect(expires > now - 0.05, "lease lapsed \(now - expires) s ago") }
                looks += 1
                try await Task.sleep(for: .milliseconds(100))
                row = try await job(id, in: database)
            }
            #expect(row.state == "completed", "still \(row.state) long after it should have finished\n\(owner.process.stderrTail())")
            #expect(row.attempt == 1 && row.errors.isEmpty)
            #expect(looks >= 5)
            // The event reaches the listener after the row commits: wait for it before counting.
            try await Poll.until("the completed event", timeout: .seconds(10)) { events.states(of: id).contains("completed") }
            #expect(events.states(of: id).filter { $0 == "completed" }.count == 1)
            #expect(!owner.process.standardError.contains("Lost leases") && !other.process.standardError.contains("Rescued jobs"))

            for node in [owner, other] { node.process.send(SIGTERM) }
            for node in [owner, other] {
                #expect(try await node.process.waitForExit(timeout: .seconds(15)) == .exited(0), "\(node.process.stderrTail())")
            }
        }
    }

    @Test func sigtermStopsClaimingFinishesTheShortJobHandsBackTheLongOneAndExitsZero() async throws {
        let directory = try TemporaryDirectory(prefix: "reeld-sigterm")
        defer { directory.remove() }
        let url = try TestDatabase.makeDatabase()
        let database = Database(configuration: .init(url: url, maxConnections: 2), logger: TestDatabase.logger)
        defer { database.close() }
        let queue = JobQueue(database: database)
        let grace = 4.0

        var nodeSettings = settings("stopping", url: url, in: directory)
        nodeSettings.shutdownGraceSeconds = Int(grace)
        // Debug shows the moment the worker is told to stop.
        nodeSettings.logLevel = "debug"
        let node = try ReeldProcess(nodeSettings, label: "stopping")
        defer { node.process.killAndReap() }
        try await node.waitUntilReady()

        let short = try await queue.submit(JobSubmission(kind: .sleep, args: ["seconds": 2])).jobID
        let long = try await queue.submit(JobSubmission(kind: .sleep, args: ["seconds": 600])).jobID
        try await waitUntilRunning(long, on: node, in: database)
        try await waitUntilRunning(short, on: node, in: database)

        node.process.send(SIGTERM)
        // Still running when the signal went: what finishes it is the drain.
        let shortAtSignal = try await job(short, in: database)
        try #require(shortAtSignal.state == "running", "the short job ended before SIGTERM: \(shortAtSignal)")
        try await Poll.until("the node to catch SIGTERM", timeout: .seconds(10), context: { node.process.stderrTail() }) {
            node.process.standardError.contains(ProcessTests.signalCaught)
        }
        // Submitted once the signal is in: a node that still claimed would pick it up at once
        // (NOTIFY). The group reaches the worker within milliseconds; a second is the most
        // this waits for it, so that a node that never stops claiming is caught here too.
        try? await Poll.until("the worker to be told to stop", timeout: .seconds(1)) {
            node.process.standardError.contains(#"msg="Triggering graceful shutdown for service" sl-service=QueueWorker"#)
        }
        try await Task.sleep(for: .milliseconds(100))
        let late = try await queue.submit(JobSubmission(kind: .noop)).jobID

        let exit = try await node.process.waitForExit(timeout: .seconds(grace + 10))
        #expect(exit == .exited(0), "\(node.process.stderrTail())")
        // Timed by the node's own log, which a busy test process cannot delay.
        let caught = try #require(node.loggedAt(ProcessTests.signalCaught))
        let ended = try #require(node.loggedAt(#"msg="Service lifecycle ended""#), "\(node.process.stderrTail())")
        let took = ended.timeIntervalSince(caught)
        #expect(took >= grace - 0.25, "stopped \(took) s after SIGTERM, before the grace period was over")
        #expect(took < grace + 1.5, "stopped \(took) s after SIGTERM with a \(grace) s grace period")

        let finished = try await job(short, in: database)
        #expect(finished.state == "completed" && finished.attempt == 1, "short job: \(finished)")
        // The long job's lease is handed back, its attempt not spent (a rescue would have made
        // it retryable with an error).
        let handedBack = try await job(long, in: database)
        #expect(handedBack.state == "available", "long job: \(handedBack)")
        #expect(handedBack.leaseOwner == nil && handedBack.leaseExpires == nil)
        #expect(handedBack.attempt == 0 && handedBack.errors.isEmpty)
        let untouched = try await job(late, in: database)
        #expect(untouched.state == "available" && untouched.attempt == 0, "job submitted after SIGTERM: \(untouched)")
    }

    /// CPU seconds a process has used (all its threads, user and system).
    func cpuSeconds(_ pid: pid_t) throws -> Double {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        // Fields after the command name, which is in parentheses and may hold spaces.
        let fields = stat[stat.index(after: try #require(stat.lastIndex(of: ")")))...].split(separator: " ")
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return (try #require(Double(fields[11])) + (try #require(Double(fields[12])))) / ticks
    }

    @Test func readyComesOnceTheSpoolIsWatchedAndAnIdleNodeSpendsNoCPU() async throws {
        let directory = try TemporaryDirectory(prefix: "reeld-ready")
        defer { directory.remove() }
        let url = try TestDatabase.makeDatabase()
        let socket = try NotifySocket()
        // The shipped intervals (no job runs, so heartbeats never go out; the rescuer wakes every
        // 15 s, the claim loop's fallback poll every 5 s) and a rescan too slow to find a file.
        var settings = ReeldProcess.Settings(nodeName: "ready", databaseURL: url, directory: directory.appending("ready"))
        settings.leaseSeconds = 30
        settings.heartbeatSeconds = 10
        settings.rescueIntervalSeconds = 15
        settings.rescanSeconds = 3600
        let node = try ReeldProcess(settings, label: "ready", environment: ["NOTIFY_SOCKET": socket.path])
        defer { node.process.killAndReap() }

        var ready = false
        try await Poll.until("READY=1 on the notify socket", timeout: .seconds(30), interval: .milliseconds(1),
                             context: { node.process.stderrTail() }) {
            if let datagram = socket.receive(timeout: .milliseconds(100)) {
                ready = ready || datagram.split(separator: "\n").contains("READY=1")
            }
            return ready
        }
        // READY means the spool is watched: a file renamed into new/ now is found by inotify,
        // not by the next rescan an hour away.
        let spool = settings.spoolDirectory
        try Data(#"{"kind": "system.noop", "idempotency_key": "after-ready"}"#.utf8)
            .write(to: spool.appendingPathComponent("tmp/after-ready.json"))
        #expect(rename(spool.appendingPathComponent("tmp/after-ready.json").path, spool.appendingPathComponent("new/after-ready.json").path) == 0)
        try await Poll.until("the file dropped after READY to be accepted", timeout: .seconds(15), context: { node.process.stderrTail() }) {
            FileManager.default.fileExists(atPath: spool.appendingPathComponent("accepted/after-ready.json").path)
        }
        let database = Database(configuration: .init(url: url, maxConnections: 1), logger: TestDatabase.logger)
        defer { database.close() }
        try await Poll.until("the job to complete", timeout: .seconds(15)) {
            try await database.query("select count(*) as n from public.jobs where state = 'completed'")[0].int("n") == 1
        }

        // Idle: over more than one fallback poll, next to no CPU. A busy wait would burn seconds.
        try await Task.sleep(for: .milliseconds(500))
        let before = try cpuSeconds(node.process.pid)
        try await Task.sleep(for: .seconds(6))
        let used = try cpuSeconds(node.process.pid) - before
        #expect(used < 0.1, "an idle node used \(used) s of CPU in 6 s")

        node.process.send(SIGTERM)
        #expect(try await node.process.waitForExit(timeout: .seconds(30)) == .exited(0))
    }
}
