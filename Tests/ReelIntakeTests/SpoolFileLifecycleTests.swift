import Foundation
import ReelCore
import Testing
@testable import ReelIntake

@Suite struct SpoolFileLifecycleTests {
    let limits = SpoolFileLifecycle.Limits(maxFileBytes: 1000, allowedOwnerUIDs: [])
    let regular = SpoolFileLifecycle.Facts(type: .regular, size: 20, ownerUID: 1000)
    let noop = Array(#"{"kind": "system.noop"}"#.utf8)

    func machine(_ name: String = "a.json", limits: SpoolFileLifecycle.Limits? = nil) -> SpoolFileLifecycle {
        SpoolFileLifecycle(name: Array(name.utf8), limits: limits ?? self.limits)
    }

    @Test func validFileGoesInspectReadSubmitAccept() throws {
        var m = machine()
        let name = try SpoolFileName.validate(Array("a.json".utf8)).get()
        #expect(m.start() == .inspect(name))
        #expect(m.inspected(regular) == .read(name, limit: 1000))
        guard case .submit(let job) = m.read(noop) else { Issue.record("expected submit"); return }
        #expect(job.kind == .noop)
        let receipt = SubmitReceipt(jobID: UUID(), created: true)
        #expect(m.submitted(receipt) == .moveToAccepted(name))
        #expect(m.moved(storedAs: "a.json") == .finish(.accepted(file: "a.json", receipt: receipt, storedAs: "a.json")))
    }

    @Test func namesThatCouldLeaveTheDirectoryAreIgnored() {
        for name in ["../x.json", "a/b.json", ".hidden", "..", ".", "", "tab\there"] {
            var m = machine(name)
            guard case .finish(.ignored) = m.start() else { Issue.record("\(name) was not ignored"); continue }
        }
        var m = SpoolFileLifecycle(name: [0x66, 0xFF, 0xFE], limits: limits)
        guard case .finish(.ignored(_, let reason)) = m.start() else { Issue.record("non-UTF-8 name not ignored"); return }
        #expect(reason.contains("UTF-8"))
    }

    @Test func nonRegularFilesAreRejectedWithoutReading() {
        for type in [SpoolFileLifecycle.Facts.FileType.symlink, .fifo, .directory, .socket, .characterDevice] {
            var m = machine()
            _ = m.start()
            guard case .moveToRejected(_, let problems) = m.inspected(.init(type: type, size: 0, ownerUID: 0)) else {
                Issue.record("\(type) not rejected"); continue
            }
            #expect(problems == [IntakeProblem(path: "$", expected: "a regular file", got: type.rawValue)])
        }
    }

    @Test func oversizedFileIsRejectedByStatAndByWhatWasRead() {
        var m = machine()
        _ = m.start()
        guard case .moveToRejected(_, let problems) = m.inspected(.init(type: .regular, size: 1001, ownerUID: 0)) else {
            Issue.record("not rejected"); return
        }
        #expect(problems.first?.got == "1001 bytes")

        var grown = machine()
        _ = grown.start()
        _ = grown.inspected(regular)
        guard case .moveToRejected = grown.read(Array(repeating: 0x20, count: 1001)) else { Issue.record("grown file not rejected"); return }
    }

    @Test func ownerOutsideTheAllowedSetIsRejected() {
        var m = machine(limits: .init(maxFileBytes: 1000, allowedOwnerUIDs: [0, 990]))
        _ = m.start()
        guard case .moveToRejected(_, let problems) = m.inspected(regular) else { Issue.record("not rejected"); return }
        #expect(problems == [IntakeProblem(path: "$", expected: "a file owned by uid 0, 990", got: "owner uid 1000")])
    }

    @Test func transientSubmitFailureLeavesTheFile() {
        var m = machine()
        _ = m.start()
        _ = m.inspected(regular)
        _ = m.read(noop)
        #expect(m.failed("database down") == .finish(.deferred(file: "a.json", reason: "database down")))
    }

    @Test func submitRejectionBecomesAProblem() {
        var m = machine()
        _ = m.start()
        _ = m.inspected(regular)
        _ = m.read(noop)
        guard case .moveToRejected(_, let problems) = m.submitRejected(SubmitRejection("unknown user", path: "$.user_id")) else {
            Issue.record("not rejected"); return
        }
        #expect(problems == [IntakeProblem(path: "$.user_id", expected: "a job the queue accepts", got: "unknown user")])
    }

    @Test func workQueueCoalescesNamesAndARescanCoversThem() {
        var q = SpoolWorkQueue()
        q.fileArrived([0x61])
        q.fileArrived([0x62])
        q.fileArrived([0x61])
        #expect(q.take() == .files([[0x61], [0x62]]))
        #expect(q.take() == nil)
        q.fileArrived([0x61])
        q.requestRescan()
        q.fileArrived([0x63])
        #expect(q.take() == .rescan)
        #expect(q.take() == nil)
    }
}
