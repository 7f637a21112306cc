import Foundation
import Logging
import ReelCore
import Synchronization
import Testing
@testable import ReelIntake

@Suite struct SpoolWatcherTests {
    let logger = Logger(label: "test.intake.watcher")

    /// Runs a watcher while `body` runs, then cancels it and checks that it stops promptly.
    func withWatcher(
        _ spool: TemporarySpool, _ submitter: FakeSubmitter, configuration: SpoolConfiguration? = nil,
        _ body: () async throws -> Void
    ) async throws {
        let watcher = SpoolWatcher(configuration: configuration ?? spool.configuration(), submitter: submitter, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await watcher.run() }
            try await body()
            let cancelledAt = ContinuousClock.now
            group.cancelAll()
            try await group.waitForAll()
            // Well under any rescan interval the tests use (≥ 30 s): a watcher that waited for its
            // next scan, or for inotify, instead of seeing the cancel would take that long. Not
            // tighter, because the machine running the tests may be loaded.
            #expect(ContinuousClock.now - cancelledAt < .seconds(10), "run() must end promptly on cancellation")
        }
    }

    @Test func fileDroppedWhileRunningIsPickedUpByInotify() async throws {
        let spool = TemporarySpool()
        defer { spool.remove() }
        let submitter = FakeSubmitter()
        // No periodic rescan within the test: only the start scan and inotify can find files.
        try await withWatcher(spool, submitter, configuration: spool.configuration(rescanInterval: .seconds(3600))) {
            // Wait for the start scan (which runs after the watch is in place) to be done.
            #expect(await eventually { FileManager.default.fileExists(atPath: spool.root + "/new") })
            spool.drop("0-before.json", #"{"kind": "system.noop", "idempotency_key": "before"}"#)
            #expect(await eventually { spool.names(in: "accepted").contains("0-before.json") })

            spool.drop("1-later.json", #"{"kind": "system.noop", "idempotency_key": "later"}"#)
            #expect(await eventually(within: .seconds(10)) { spool.names(in: "accepted").contains("1-later.json") })
            spool.drop("2-bad.json", "not json")
            #expect(await eventually(within: .seconds(10)) { spool.names(in: "rejected").contains("2-bad.json") })
        }
        #expect(submitter.submissions.map(\.idempotencyKey) == ["before", "later"])
    }

    @Test func filesPresentAtStartAreScanned() async throws {
        let spool = TemporarySpool()
        defer { spool.remove() }
        _ = try SpoolProcessor(configuration: spool.configuration(), submitter: FakeSubmitter(), logger: logger)
        spool.drop("waiting.json", #"{"kind": "system.noop"}"#)
        let submitter = FakeSubmitter()
        try await withWatcher(spool, submitter) {
            #expect(await eventually { spool.names(in: "accepted") == ["waiting.json"] })
        }
    }

    @Test func periodicRescanRetriesAFileLeftByATransientFailure() async throws {
        let spool = TemporarySpool()
        defer { spool.remove() }
        let submitter = FakeSubmitter(.failTransiently(count: 1))
        try await withWatcher(spool, submitter, configuration: spool.configuration(rescanInterval: .milliseconds(300))) {
            #expect(await eventually { FileManager.default.fileExists(atPath: spool.root + "/new") })
            spool.drop("retry.json", #"{"kind": "system.noop"}"#)
            #expect(await eventually(within: .seconds(10)) { spool.names(in: "accepted") == ["retry.json"] })
        }
        #expect(submitter.jobCount == 1)
    }

    /// The heartbeat the watchdog reads: kept fresh while the spool is idle (the loop wakes
    /// every `heartbeat.every` with nothing to do), stale while a submit never returns, fresh
    /// again once it does.
    @Test func heartbeatBeatsWhileIdleAndStopsWhileASubmitHangs() async throws {
        let spool = TemporarySpool()
        defer { spool.remove() }
        let submitter = HangingSubmitter()
        let heartbeat = LoopHeartbeat(every: .milliseconds(200))
        let watcher = SpoolWatcher(configuration: spool.configuration(rescanInterval: .seconds(3600)), submitter: submitter, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await watcher.run(heartbeat: heartbeat) }
            // Idle for well over `every`: without its wake-ups the last beat would be the start scan's.
            try await Task.sleep(for: .milliseconds(1500))
            #expect(heartbeat.age < .seconds(1))

            spool.drop("hangs.json", #"{"kind": "system.noop"}"#)
            #expect(await eventually { submitter.entered.load(ordering: .relaxed) })
            #expect(await eventually { heartbeat.age > .seconds(1) }, "a stuck submit must stop the beats")

            submitter.release()
            #expect(await eventually { spool.names(in: "accepted") == ["hangs.json"] })
            #expect(await eventually { heartbeat.age < .milliseconds(500) })
            group.cancelAll()
            try await group.waitForAll()
        }
    }

    @Test func runEndsWithAnErrorWhenTheSpoolCannotBeCreated() async throws {
        let spool = TemporarySpool()
        defer { spool.remove() }
        try Data().write(to: URL(fileURLWithPath: spool.root))  // a file where the spool directory should be
        let watcher = SpoolWatcher(configuration: spool.configuration(), submitter: FakeSubmitter(), logger: logger)
        await #expect(throws: SpoolIOError.self) { try await watcher.run() }
    }

    @Test func eventSourceStopsAndClosesWhenAsked() async throws {
        let spool = TemporarySpool()
        defer { spool.remove() }
        let layout = try SpoolLayout(spool.configuration())
        let source = try SpoolEventSource(watching: layout.new, rescanInterval: .seconds(3600), logger: logger)
        #expect(source.takeWork() == .rescan)
        source.start()
        spool.drop("x.json", "{}")
        #expect(await eventually { source.takeWork() == .files([Array("x.json".utf8)]) })
        source.stop()
        await source.waitUntilClosed()
        #expect(source.failure == nil)
        // The stream is finished: draining it ends (a buffered wake-up at most).
        var remaining = 0
        for await _ in source.wakeups { remaining += 1 }
        #expect(remaining <= 1)
    }
}

/// A submitter whose first submit waits until `release()`: a database call that never returns.
final class HangingSubmitter: JobSubmitting {
    let entered = Atomic<Bool>(false)
    private let gate: AsyncStream<Void>
    private let opener: AsyncStream<Void>.Continuation

    init() {
        (gate, opener) = AsyncStream.makeStream(of: Void.self)
    }

    func release() { opener.finish() }

    func submit(_ job: JobSubmission) async throws -> SubmitReceipt {
        entered.store(true, ordering: .relaxed)
        for await _ in gate {}
        return SubmitReceipt(jobID: UUID(), created: true)
    }
}
