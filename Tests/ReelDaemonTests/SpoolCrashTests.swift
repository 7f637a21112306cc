import Foundation
import Glibc
import ReelCore
import ReelDB
import ReelIntake
import ReelTestSupport
import Testing

extension ProcessTests.SpoolCrashTests {
    /// The kinds of file a crash is tried on.
    enum FileKind: String, Sendable {
        /// Valid, with its own idempotency key.
        case keyed
        /// Valid, keyed by the hash of its bytes.
        case unkeyed
        /// Not JSON: rejected by the decoder.
        case malformed
        /// Valid as a file, refused by `reeld.submit_job()` (a storyboard needs a project).
        case refusedByQueue

        var contents: String {
            switch self {
            case .keyed: #"{"kind": "system.noop", "idempotency_key": "crash-keyed"}"#
            case .unkeyed: #"{"kind": "system.sleep", "args": {"seconds": 1}}"#
            case .malformed: #"{"kind": "system.noop""#
            case .refusedByQueue: #"{"kind": "text.storyboard", "args": {"brief": "A heron"}}"#
            }
        }

        var accepted: Bool { self == .keyed || self == .unkeyed }
    }

    /// One crash: a file of `kind`, the driver SIGKILLed at `checkpoint`.
    struct CrashCase: Sendable, CustomTestStringConvertible {
        var kind: FileKind
        var checkpoint: SpoolCheckpoint
        var testDescription: String { "\(kind.rawValue) file, killed at \(checkpoint.rawValue)" }
    }

    static let crashCases: [CrashCase] =
        [SpoolCheckpoint.inspected, .read, .submitted, .linked, .moved].map { CrashCase(kind: .keyed, checkpoint: $0) }
        + [SpoolCheckpoint.submitted, .linked].map { CrashCase(kind: .unkeyed, checkpoint: $0) }
        + [SpoolCheckpoint.inspected, .read, .reasonWritten, .linked, .moved].map { CrashCase(kind: .malformed, checkpoint: $0) }
        + [SpoolCheckpoint.reasonWritten, .linked].map { CrashCase(kind: .refusedByQueue, checkpoint: $0) }

    static let fileName = "1764000000.M1P1.crash.json"

    /// The spool's directories as the tests look at them.
    struct Spool: Sendable {
        let root: URL

        init(_ root: URL) throws {
            self.root = root
            for directory in ["tmp", "new"] {
                try FileManager.default.createDirectory(at: root.appendingPathComponent(directory), withIntermediateDirectories: true)
            }
        }

        /// Delivers a file the Maildir way: written in `tmp/`, renamed into `new/`.
        func drop(_ name: String, _ contents: String) throws {
            let tmp = root.appendingPathComponent("tmp/" + name)
            try Data(contents.utf8).write(to: tmp)
            guard rename(tmp.path, root.appendingPathComponent("new/" + name).path) == 0 else {
                throw ChildProcess.Failure("rename into new/ failed: errno \(errno)")
            }
        }

        func names(_ directory: String) -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(directory).path)) ?? []).sorted()
        }

        func contents(_ directory: String, _ name: String) -> String? {
            FileManager.default.contents(atPath: root.appendingPathComponent(directory + "/" + name).path)
                .map { String(decoding: $0, as: UTF8.self) }
        }

        func inode(_ directory: String, _ name: String) -> UInt64? {
            var st = stat()
            return stat(root.appendingPathComponent(directory + "/" + name).path, &st) == 0 ? UInt64(st.st_ino) : nil
        }

        /// Everything in the spool, for failure messages.
        var listing: String {
            ["tmp", "new", "accepted", "rejected"].map { "\($0)/: \(names($0))" }.joined(separator: "; ")
        }
    }

    /// Idempotency keys of every job in the database, with how many jobs carry each.
    func jobKeys(_ database: Database) async throws -> [String: Int] {
        var keys: [String: Int] = [:]
        for row in try await database.query("select coalesce(idempotency_key, '') as key, count(*) as n from public.jobs group by 1") {
            keys[try row.string("key")] = try row.int("n")
        }
        return keys
    }

    func driver(_ label: String, url: String, spool: Spool, stopAt: SpoolCheckpoint?, directory: TemporaryDirectory) throws -> ChildProcess {
        try ChildProcess(
            executable: try BuiltProducts.executable("SpoolCrashDriver"),
            arguments: ["--database-url", url, "--spool", spool.root.path] + (stopAt.map { ["--stop-at", $0.rawValue] } ?? []),
            outputDirectory: directory.url, label: label, niceness: 5)
    }

    @Test(arguments: crashCases)
    func killBetweenStepsThenRestartLosesNothingAndSubmitsNothingTwice(_ crash: CrashCase) async throws {
        let directory = try TemporaryDirectory(prefix: "reeld-spool-crash")
        defer { directory.remove() }
        let url = try TestDatabase.makeDatabase()
        let database = Database(configuration: .init(url: url, maxConnections: 1), logger: TestDatabase.logger)
        defer { database.close() }
        let spool = try Spool(directory.appending("spool"))
        let name = Self.fileName
        let text = crash.kind.contents
        let key = crash.kind == .keyed ? "crash-keyed" : JobFileDecoder.contentKey(Array(text.utf8))
        let destination = crash.kind.accepted ? "accepted" : "rejected"
        try spool.drop(name, text)

        // The crashed run: stopped at the checkpoint, looked at, then SIGKILLed.
        let crashed = try driver("crashed", url: url, spool: spool, stopAt: crash.checkpoint, directory: directory)
        defer { crashed.killAndReap() }
        try await crashed.waitForStop(timeout: .seconds(30))
        let submittedBeforeCrash = try await jobKeys(database)[key] ?? 0
        switch crash.checkpoint {
        case .inspected, .read:
            #expect(spool.names("new") == [name] && spool.names(destination).isEmpty, "\(spool.listing)")
            #expect(submittedBeforeCrash == 0)
        case .submitted:
            #expect(spool.names("new") == [name] && spool.names(destination).isEmpty, "\(spool.listing)")
            #expect(submittedBeforeCrash == 1)
        case .reasonWritten:
            #expect(spool.names("new") == [name] && spool.names("rejected") == [name + ".error.json"], "\(spool.listing)")
        case .linked:
            // Mid-move: one file under two names.
            #expect(spool.names("new") == [name] && spool.names(destination).contains(name), "\(spool.listing)")
            #expect(spool.inode("new", name) == spool.inode(destination, name))
        case .moved:
            #expect(spool.names("new").isEmpty && spool.names(destination).contains(name), "\(spool.listing)")
        }
        crashed.send(SIGKILL)
        #expect(try await crashed.waitForExit(timeout: .seconds(10)) == .signalled(SIGKILL))

        // The restart.
        let restarted = try driver("restarted", url: url, spool: spool, stopAt: nil, directory: directory)
        defer { restarted.killAndReap() }
        #expect(try await restarted.waitForExit(timeout: .seconds(30)) == .exited(0), "\(restarted.stderrTail())")
        let report = restarted.standardOutput.split(separator: "\n").map(String.init)

        // Nothing lost: the file is in its destination once, unchanged, and nowhere else.
        #expect(spool.names("new").isEmpty, "\(spool.listing)")
        #expect(spool.names("tmp").isEmpty, "\(spool.listing)")
        if crash.kind.accepted {
            #expect(spool.names("accepted") == [name] && spool.names("rejected").isEmpty, "\(spool.listing)")
            #expect(spool.contents("accepted", name) == text)
        } else {
            #expect(spool.names("rejected") == [name, name + ".error.json"] && spool.names("accepted").isEmpty, "\(spool.listing)")
            #expect(spool.contents("rejected", name) == text)
            let reason = try JSONSerialization.jsonObject(with: Data((spool.contents("rejected", name + ".error.json") ?? "").utf8))
            #expect((reason as? [String: Any])?["file"] as? String == name)
            if crash.kind == .refusedByQueue {
                #expect(spool.contents("rejected", name + ".error.json")?.contains("project_id") == true)
            }
        }

        // Nothing submitted twice: one job for the key, or none for a rejected file; a restart
        // after the submit finds the job instead of creating one.
        let keys = try await jobKeys(database)
        #expect(keys == (crash.kind.accepted ? [key: 1] : [:]), "jobs by key: \(keys)")
        if crash.checkpoint == .moved {
            #expect(report.isEmpty, "restart output: \(report)")
        } else if !crash.kind.accepted {
            #expect(report == ["rejected \(name) stored_as=\(name)"])
        } else {
            let created = crash.checkpoint == .inspected || crash.checkpoint == .read
            #expect(report.count == 1 && report[0].hasPrefix("accepted \(name) stored_as=\(name) "), "restart output: \(report)")
            #expect(report.first?.hasSuffix("created=\(created)") == true, "restart output: \(report)")
        }
    }

    @Test func reeldKilledAtRandomWhileIngestingAccountsForEveryFileOnceWithOneJobPerKey() async throws {
        let directory = try TemporaryDirectory(prefix: "reeld-spool-random")
        defer { directory.remove() }
        let url = try TestDatabase.makeDatabase()
        let database = Database(configuration: .init(url: url, maxConnections: 1), logger: TestDatabase.logger)
        defer { database.close() }
        let settings = ReeldProcess.Settings(nodeName: "ingest", databaseURL: url, directory: directory.appending("node"))
        let spool = try Spool(settings.spoolDirectory)

        // Fifty files: keyed and unkeyed jobs, five byte-for-byte copies of an unkeyed file
        // (the same content key: one job for two files) and five malformed ones.
        var files: [(name: String, text: String)] = []
        var expectedKeys: [String: Int] = [:]
        for i in 0..<50 {
            let name = "\(1_764_000_000 + i).M\(i)P1.random.json"
            let text: String
            switch i % 10 {
            case 9: text = #"{"kind": "system.noop", "#
            case 8: text = files[i - 1].text
            case let r where r % 2 == 0: text = #"{"kind": "system.noop", "idempotency_key": "random-\#(i)"}"#
            default: text = #"{"kind": "system.noop", "priority": \#(i)}"#
            }
            files.append((name, text))
            if i % 10 == 9 { continue }
            expectedKeys[i % 2 == 0 && i % 10 != 8 ? "random-\(i)" : JobFileDecoder.contentKey(Array(text.utf8))] = 1
        }
        for file in files { try spool.drop(file.name, file.text) }
        let handled: @Sendable () -> Int = {
            spool.names("accepted").count + spool.names("rejected").filter { !$0.hasSuffix(".error.json") }.count
        }

        // Kill reeld at a random moment once it is ingesting, restart it, again. The moments come
        // from a seed, printed so that a failing run can be replayed with REELD_SPOOL_CRASH_SEED.
        // Each round kills once the run has handled a seeded number of files (one to three), a
        // seeded fraction of a millisecond later: eight rounds take at most 24 of the 50 files
        // plus what a run handles between the moment and the kill, so every kill lands while
        // files are left, whatever the machine's speed.
        let seed = ProcessInfo.processInfo.environment["REELD_SPOOL_CRASH_SEED"].flatMap(UInt64.init)
            ?? UInt64.random(in: 0...UInt64(UInt32.max))
        print("SpoolCrashTests: seed \(seed) (replay with REELD_SPOOL_CRASH_SEED=\(seed))")
        var random = SeededRandom(seed: seed)
        let rounds = 8
        var kills: [String] = ["seed \(seed)"]
        for round in 1...rounds {
            let before = handled()
            let files = Int(random.next() % 3) + 1
            let delay = Int(random.next() % 1000)
            let node = try ReeldProcess(settings, label: "round \(round)")
            defer { node.process.killAndReap() }
            let sent = await node.process.send(SIGKILL, after: .microseconds(delay), once: {
                handled() >= before + files || spool.names("new").isEmpty
            }, timeout: .seconds(30))
            try #require(sent, "round \(round) never handled \(files) file(s) (seed \(seed))\n\(node.process.stderrTail())")
            #expect(try await node.process.waitForExit(timeout: .seconds(10)) == .signalled(SIGKILL))
            let left = spool.names("new").count
            if left > 0 { kills.append("round \(round): killed \(delay) µs after its \(files) file(s), \(handled() - before) handled, \(left) left") }
        }
        #expect(kills.count == rounds + 1, "reeld was killed while ingesting only \(kills.count - 1) time(s)\n\(kills.joined(separator: "\n"))")

        // The last run drains what is left, and stops cleanly.
        let last = try ReeldProcess(settings, label: "last")
        defer { last.process.killAndReap() }
        try await Poll.until("the last run to empty new/", timeout: .seconds(30), context: { last.process.stderrTail() }) {
            spool.names("new").isEmpty
        }
        try await last.waitUntilReady()
        last.process.send(SIGTERM)
        #expect(try await last.process.waitForExit(timeout: .seconds(15)) == .exited(0), "\(last.process.stderrTail())")

        let story = kills.joined(separator: "\n")
        let valid = files.enumerated().filter { $0.offset % 10 != 9 }.map(\.element)
        let malformed = files.enumerated().filter { $0.offset % 10 == 9 }.map(\.element)
        #expect(spool.names("accepted") == valid.map(\.name).sorted(), "\(spool.listing)\n\(story)")
        #expect(spool.names("rejected") == malformed.flatMap { [$0.name, $0.name + ".error.json"] }.sorted(), "\(spool.listing)\n\(story)")
        for file in valid { #expect(spool.contents("accepted", file.name) == file.text) }
        for file in malformed { #expect(spool.contents("rejected", file.name) == file.text) }
        // A kill inside the write of a reason may leave reeld's own scratch file, never a job file.
        #expect(spool.names("tmp").allSatisfy { $0.hasPrefix(".reeld-") }, "\(spool.listing)")
        let keys = try await jobKeys(database)
        #expect(keys == expectedKeys, "jobs by key differ from one per key\n\(story)")
    }
}

// MARK: - Files reeld may not read

extension ProcessTests.SpoolCrashTests {
    /// The uid the driver runs as in these tests: not root, so file permissions apply to it.
    static let serviceUID: UInt32 = 65534

    /// A file whose mode leaves reeld out (a submitter's umask 077) is rejected at once with the
    /// reason, instead of being left in `new/` and retried at every scan, forever.
    @Test func aFileReeldMayNotReadIsRejectedWithItsReason() async throws {
        let directory = try TemporaryDirectory(prefix: "reeld-spool-unreadable")
        defer { directory.remove() }
        let url = try TestDatabase.makeDatabase()
        let spool = try Spool(directory.appending("spool"))
        for sub in ["", "/tmp", "/new"] {
            #expect(chown(spool.root.path + sub, Self.serviceUID, Self.serviceUID) == 0)
        }
        let name = "1764000000.M1P1.private.json"
        try spool.drop(name, #"{"kind": "system.noop", "idempotency_key": "private"}"#)
        // Written by root with umask 077: root may submit for anyone, but reeld may not read it.
        #expect(chmod(spool.root.path + "/new/" + name, 0o600) == 0)

        let driver = try ChildProcess(
            executable: URL(fileURLWithPath: "/usr/bin/setpriv"),
            arguments: [
                "--reuid=\(Self.serviceUID)", "--regid=\(Self.serviceUID)", "--clear-groups", "--",
                try BuiltProducts.executable("SpoolCrashDriver").path, "--database-url", url, "--spool", spool.root.path,
            ],
            outputDirectory: directory.url, label: "unprivileged")
        defer { driver.killAndReap() }
        #expect(try await driver.waitForExit(timeout: .seconds(30)) == .exited(0), "\(driver.stderrTail())")

        #expect(driver.standardOutput == "rejected \(name) stored_as=\(name)\n", "\(driver.standardOutput)")
        #expect(spool.names("new").isEmpty, "\(spool.listing)")
        #expect(spool.names("rejected") == [name, name + ".error.json"], "\(spool.listing)")
        let reason = spool.contents("rejected", name + ".error.json") ?? ""
        #expect(reason.contains("permission denied") && reason.contains("uid \(Self.serviceUID)"), "\(reason)")
    }
}

// MARK: - Hostile files into a running node

extension ProcessTests.SpoolCrashTests {
    /// The raw names in one of the spool's directories (some test names are not UTF-8).
    func rawNames(_ spool: Spool, _ directory: String) -> [[UInt8]] {
        guard let dir = opendir(spool.root.path + "/" + directory) else { return [] }
        defer { closedir(dir) }
        var names: [[UInt8]] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
            if name != [0x2E] && name != [0x2E, 0x2E] { names.append(name) }
        }
        return names
    }

    /// Writes `file` into `tmp/` and renames it into `new/` (FIFOs, symlinks and directories the same way).
    func deliver(_ file: HostileJobFiles.File, into spool: Spool) throws {
        func path(_ directory: String) -> [CChar] {
            let bytes: [UInt8] = Array((spool.root.path + "/" + directory + "/").utf8) + file.name + [0]
            return bytes.map { CChar(bitPattern: $0) }
        }
        let tmp = path("tmp"), new = path("new")
        switch file.contents {
        case .bytes(let bytes):
            let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0o644)
            guard fd >= 0 else { throw ChildProcess.Failure("create \(String(decoding: file.name, as: UTF8.self)): errno \(errno)") }
            defer { close(fd) }
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, bytes.count - offset) }
                guard written > 0 else { throw ChildProcess.Failure("write: errno \(errno)") }
                offset += written
            }
        case .sparse(let size):
            let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0o644)
            guard fd >= 0, ftruncate(fd, off_t(size)) == 0 else { throw ChildProcess.Failure("sparse file: errno \(errno)") }
            close(fd)
        case .fifo:
            guard mkfifo(tmp, 0o644) == 0 else { throw ChildProcess.Failure("mkfifo: errno \(errno)") }
        case .symlink(let target):
            guard symlink(target, tmp) == 0 else { throw ChildProcess.Failure("symlink: errno \(errno)") }
        case .directory:
            guard mkdir(tmp, 0o755) == 0 else { throw ChildProcess.Failure("mkdir: errno \(errno)") }
        }
        guard rename(tmp, new) == 0 else { throw ChildProcess.Failure("rename into new/: errno \(errno)") }
    }

    /// A few hundred hostile files (a few thousand with `REELD_FUZZ_FILES`; `scripts/fuzz-intake`)
    /// dropped into a running `reeld run`: it never crashes, every file with a job file's name
    /// ends in `accepted/` or in `rejected/` beside a reason, the rest is left alone, and the
    /// node stops cleanly afterwards.
    @Test func hostileFilesAreEachAcceptedOrRejectedWithAReasonAndNodeSurvives() async throws {
        let directory = try TemporaryDirectory(prefix: "reeld-spool-hostile")
        defer { directory.remove() }
        let url = try TestDatabase.makeDatabase()
        let database = Database(configuration: .init(url: url, maxConnections: 1), logger: TestDatabase.logger)
        defer { database.close() }
        var settings = ReeldProcess.Settings(nodeName: "hostile", databaseURL: url, directory: directory.appending("node"))
        // Jobs are queued, not run: the test is about intake, and running them would compete for the CPU.
        settings.workers = 1
        let spool = try Spool(settings.spoolDirectory)
        let count = HostileJobFiles.count("REELD_FUZZ_FILES", default: 300)
        let seed = HostileJobFiles.seedFromEnvironment()
        var generator = HostileJobFiles(seed: seed)
        let files = (0..<count).map { generator.file($0) }

        let node = try ReeldProcess(settings, label: "hostile")
        defer { node.process.killAndReap() }
        try await node.waitUntilReady()
        let started = ContinuousClock.now
        for file in files { try deliver(file, into: spool) }
        let ignored = Set(files.filter { $0.intent == .ignored }.map(\.name))
        try await Poll.until(
            "reeld to take every job file out of new/", timeout: .seconds(60 + count / 20),
            context: { "seed \(seed)\n\(node.process.stderrTail())" }
        ) {
            if let ended = node.process.termination { throw ChildProcess.Failure("reeld ended (\(ended)), seed \(seed)\n\(node.process.stderrTail())") }
            return Set(rawNames(spool, "new")).isSubset(of: ignored)
        }
        let elapsed = ContinuousClock.now - started
        #expect(node.process.termination == nil, "seed \(seed)")

        // Every job file is in accepted/ or rejected/ with a reason; names that are not job
        // files are where they were.
        let accepted = Set(rawNames(spool, "accepted"))
        let reasonSuffix = Array(".error.json".utf8)
        let rejected = Set(rawNames(spool, "rejected").filter { !$0.ends(with: reasonSuffix) })
        let left = Set(rawNames(spool, "new"))
        var outcomes: [String: Int] = [:]
        for file in files {
            let name = String(decoding: file.name, as: UTF8.self)
            switch file.intent {
            case .ignored:
                #expect(left.contains(file.name), "seed \(seed): ignored name \(name) was touched")
                outcomes["ignored", default: 0] += 1
            case .accepted:
                #expect(accepted.contains(file.name), "seed \(seed): valid job \(name) not accepted; \(spool.contents("rejected", name + ".error.json") ?? "")")
                outcomes["accepted", default: 0] += 1
            case .handled:
                let inAccepted = accepted.contains(file.name), inRejected = rejected.contains(file.name)
                #expect(inAccepted != inRejected, "seed \(seed): \(name) accepted: \(inAccepted), rejected: \(inRejected)")
                if inRejected {
                    let report = spool.contents("rejected", name + ".error.json").flatMap { try? JSONValue(parsing: Array($0.utf8)) }
                    #expect(report?["errors"]?.arrayValue?.isEmpty == false, "seed \(seed): \(name) rejected without a reason")
                }
                outcomes[inAccepted ? "accepted" : "rejected", default: 0] += 1
            }
        }
        #expect(accepted.count + rejected.count + ignored.count == files.count, "seed \(seed): \(spool.listing)")
        let jobs = try await database.query("select count(*) as n from public.jobs")
        let queued = try jobs.first?.int("n") ?? -1

        node.process.send(SIGTERM)
        #expect(try await node.process.waitForExit(timeout: .seconds(20)) == .exited(0), "\(node.process.stderrTail())")
        let report = "hostile spool run: seed \(seed), \(files.count) files in \(elapsed), outcomes \(outcomes.sorted { $0.key < $1.key }), jobs queued \(queued)"
        print(report)
        try? Data((report + "\n").utf8).write(to: URL(fileURLWithPath: NSTemporaryDirectory() + "reeld-fuzz-intake-last.txt"))
    }
}

extension Array where Element == UInt8 {
    fileprivate func ends(with suffix: [UInt8]) -> Bool { count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix }
}
