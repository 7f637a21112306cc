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

    /// A node SIGKILLed mid-job: once its lease has expired, another node's rescuer returns the
    /// job to the queue, runs it again and completes it, once. Ordered by the database's own
    /// record (the rescue's time against the dead lease's end), not by how fast a loaded machine is.
    @Test func jobOfAKilledNodeIsRescuedAfterItsLeaseExpiresRecordsTheLostLeaseAndCompletesOnce() async throws {
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

            victim.process.send(SIGKILL)
            #expect(try await victim.process.waitForExit(timeout: .seconds(10)) == .signalled(SIGKILL))
            // Reaped, the victim extends its lease no more: this is the lease the rescue must outwait.
            let dead = try await job(id, in: database)
            try #require(dead.state == "running" && dead.leaseOwner == victim.owner && dead.attempt == 1,
                         "the job must still run on the victim when it is killed: \(dead)")
            let deadLeaseEnds = try #require(dead.leaseExpires)

            // Rescued by the rescuer (it says so), and running again there or already done.
            try await Poll.until("the rescuer to rescue the job and take it over", timeout: .seconds(60),
                                 context: { rescuer.process.stderrTail() }) {
                let row = try await job(id, in: database)
                return rescuer.process.standardError.contains("Rescued jobs whose lease expired")
                    && (row.attempt == 2 && row.leaseOwner == rescuer.owner || row.state == "completed")
            }
            let rescue = try await database.query(
                """
                select extract(epoch from (errors -> 0 ->> 'at')::timestamptz) as rescued_at,
                       extract(epoch from attempted_at) as attempted_at
                from public.jobs where id = $1::uuid
                """, [id])[0]
            let rescuedAt = try rescue.double("rescued_at"), attemptedAt = try rescue.double("attempted_at")
            // Not while the dead node's lease still ran, and run again only after the rescue.
            #expect(rescuedAt >= deadLeaseEnds, "rescued \(deadLeaseEnds - rescuedAt) s before the dead node's lease ended")
            #expect(attemptedAt >= rescuedAt, "the second attempt began before the rescue")

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

            rescuer.process.send(SIGTERM)
            #expect(try await rescuer.process.waitForExit(timeout: .seconds(15)) == .exited(0), "\(rescuer.process.stderrTail())")
            // Every node has exited: every event there will ever be is published. Exactly one
            // completion, and no other end.
            try await events.catchUp(through: database)
            let states = events.states(of: id)
            #expect(states.filter { $0 == "completed" }.count == 1, "events: \(states)")
            #expect(!states.contains("cancelled") && !states.contains("failed"), "events: \(states)")
        }
    }

    /// A node frozen (SIGSTOP) mid-job past its lease: another node rescues the job, runs it and
    /// completes it. Thawed (SIGCONT), the frozen node learns at its next heartbeat that the lease
    /// is lost and cancels its handler, which was still sleeping through its job; nothing it does
    /// afterwards touches the job, and exactly one completion is ever published.
    @Test func aFrozenNodeThawedAfterAnotherCompletedItsJobCancelsItsHandlerAndPublishesNothing() async throws {
        let directory = try TemporaryDirectory(prefix: "reeld-frozen")
        defer { directory.remove() }
        let url = try TestDatabase.makeDatabase()
        let database = Database(configuration: .init(url: url, maxConnections: 2), logger: TestDatabase.logger)
        defer { database.close() }

        try await JobEventLog.recording(url: url) { events in
            // The sleep counts its own steps (100 ms each), not the wall clock: frozen, it does not
            // advance, so when thawed the frozen node's handler still has most of it ahead.
            let id = try await JobQueue(database: database).submit(JobSubmission(kind: .sleep, args: ["seconds": 4])).jobID
            let frozen = try ReeldProcess(settings("frozen", url: url, in: directory), label: "frozen")
            defer { frozen.process.killAndReap() }
            try await waitUntilRunning(id, on: frozen, in: database)

            frozen.process.send(SIGSTOP)
            let other = try ReeldProcess(settings("other", url: url, in: directory), label: "other")
            defer { other.process.killAndReap() }

            // The other node rescues it once the frozen lease has expired, runs and completes it.
            try await Poll.until("the other node to complete the job", timeout: .seconds(60), context: { other.process.stderrTail() }) {
                try await job(id, in: database).state == "completed"
            }
            let done = try await job(id, in: database)
            #expect(done.attempt == 2 && done.errors.count == 1, "\(done)")
            #expect((done.errors.first?["error"]?.stringValue ?? "").contains(frozen.owner), "error history: \(done.errors)")
            #expect(other.process.standardError.contains("Rescued jobs whose lease expired"))
            // Still frozen all along: it has logged nothing about the job yet.
            #expect(!frozen.process.standardError.contains("Lost leases"))

            frozen.process.send(SIGCONT)
            // Its heartbeat finds the lease gone and stops the handler (the two lines may come in
            // either order: the handler can end before the heartbeat has logged).
            try await Poll.until("the thawed node to find its lease lost and stop its handler", timeout: .seconds(30),
                                 context: { frozen.process.stderrTail() }) {
                let log = frozen.process.standardError
                return log.contains(#"msg="Lost leases; stopping those jobs" jobs=1"#) && log.contains(#"msg="Job cancelled""#)
            }

            for node in [frozen, other] { node.process.send(SIGTERM) }
            for node in [frozen, other] {
                #expect(try await node.process.waitForExit(timeout: .seconds(20)) == .exited(0), "\(node.process.stderrTail())")
            }
            // The thawed node's cancel changed nothing: the job is as the other node left it.
            let after = try await job(id, in: database)
            #expect(after.state == "completed" && after.attempt == 2 && after.errors.count == 1, "\(after)")
            try await events.catchUp(through: database)
            let states = events.states(of: id)
            #expect(states.filter { $0 == "completed" }.count == 1, "events: \(states)")
            #expect(!states.contains("cancelled"), "events: \(states)")
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
        // Submitted once the worker says no claim is in flight any more: a node that still
        // claimed would pick it up at once (NOTIFY), one that never stops claiming fails here.
        try await Poll.until("the worker to stop claiming", timeout: .seconds(30), context: { node.process.stderrTail() }) {
            node.process.standardError.contains(#"msg="Claiming stopped""#)
        }
        let late = try await queue.submit(JobSubmission(kind: .noop)).jobID

        let exit = try await node.process.waitForExit(timeout: .seconds(grace + 30))
        #expect(exit == .exited(0), "\(node.process.stderrTail())")
        // The grace was waited out in full (by the node's own clock; load only lengthens it) ...
        let caught = try #require(node.loggedAt(ProcessTests.signalCaught))
        let ended = try #require(node.loggedAt(#"msg="Service lifecycle ended""#), "\(node.process.stderrTail())")
        let took = ended.timeIntervalSince(caught)
        #expect(took >= grace - 0.25, "stopped \(took) s after SIGTERM, before the grace period was over")
        // ... and then it did not wait for the long job: at the grace's end it cancelled the one
        // job left, handed its lease back once the handler stopped, and the node ended. In that
        // order, in the node's log.
        let steps: [[String]] = [
            [ProcessTests.signalCaught], [#"msg="Claiming stopped""#],
            [#"msg="Grace period over; cancelling running jobs, each handed back once it stops""#, " jobs=1"],
            [#"msg="Job interrupted by shutdown; handing its lease back""#, "job_id=\(long.lowercasedText)"],
            [#"msg="Worker stopped""#], [#"msg="Service lifecycle ended""#],
        ]
        let lines = steps.map { node.logLine(containing: $0) }
        let story = zip(steps, lines).map { "\($0.1.map(String.init) ?? "missing") \($0.0[0])" }.joined(separator: "\n")
        #expect(!lines.contains(nil), "missing from the log:\n\(story)\n\(node.process.stderrTail())")
        let found = lines.compactMap { $0 }
        #expect(found == found.sorted() && Set(found).count == found.count, "out of order:\n\(story)")

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
