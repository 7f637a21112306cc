import Foundation
import ReelCore
import Testing
@testable import ReelIntake

@Suite struct SpoolFileLifecycleTests {
    let limits = SpoolFileLifecycle.Limits(maxFileBytes: 1000, submitters: SpoolSubmitters(anyUserUIDs: [1000]))
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
        #expect(m.submitted(receipt) == .moveToAccepted(name, regular))
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
            guard case .moveToRejected(_, let problems, _) = m.inspected(.init(type: type, size: 0, ownerUID: 1000)) else {
                Issue.record("\(type) not rejected"); continue
            }
            #expect(problems == [IntakeProblem(path: "$", expected: "a regular file", got: type.rawValue)])
        }
    }

    @Test func oversizedFileIsRejectedByStatAndByWhatWasRead() {
        var m = machine()
        _ = m.start()
        guard case .moveToRejected(_, let problems, _) = m.inspected(.init(type: .regular, size: 1001, ownerUID: 1000)) else {
            Issue.record("not rejected"); return
        }
        #expect(problems.first?.got == "1001 bytes")

        var grown = machine()
        _ = grown.start()
        _ = grown.inspected(regular)
        guard case .moveToRejected = grown.read(Array(repeating: 0x20, count: 1001)) else { Issue.record("grown file not rejected"); return }
    }

    @Test func ownerNotListedIsRejectedBeforeReading() {
        var m = machine(limits: .init(maxFileBytes: 1000, submitters: SpoolSubmitters(anyUserUIDs: [0, 990])))
        _ = m.start()
        guard case .moveToRejected(_, let problems, _) = m.inspected(regular) else { Issue.record("not rejected"); return }
        #expect(problems == [IntakeProblem(
            path: "$", expected: "a file owned by a uid listed in [intake.submitters]", got: "owner uid 1000",
            message: "$: uid 1000 may not submit jobs (not listed in [intake.submitters])")])
    }

    static let alice = UUID(uuidString: "2f1c9a7e-5b1e-4c7a-9d2e-0b8e6f1a3c44")!
    static let bob = UUID(uuidString: "8d0f3b2a-1c4e-4f6a-b7d9-5e2a1c3b4d6f")!

    /// Runs a file owned by uid 1000, which may act for alice only, up to its first decision.
    func decide(_ text: String) -> SpoolFileLifecycle.Action {
        var m = machine(limits: .init(maxFileBytes: 1000, submitters: SpoolSubmitters(usersByUID: [1000: [Self.alice]])))
        _ = m.start()
        _ = m.inspected(regular)
        return m.read(Array(text.utf8))
    }

    @Test func mappedOwnerMaySubmitForItsOwnUser() {
        guard case .submit(let job) = decide(#"{"kind": "system.noop", "user_id": "\#(Self.alice.uuidString)"}"#) else {
            Issue.record("not submitted"); return
        }
        #expect(job.userID == Self.alice)
    }

    @Test func mappedOwnerMayNotSubmitForAnotherUserOrForNobody() {
        guard case .moveToRejected(_, let other, _) = decide(#"{"kind": "system.noop", "user_id": "\#(Self.bob.uuidString)"}"#) else {
            Issue.record("another user's job was not rejected"); return
        }
        #expect(other.map(\.path) == ["$.user_id"])
        #expect(other.first?.message.contains("uid 1000 may not submit jobs for user \(Self.bob.lowercasedText)") == true, "\(other)")
        // Without a user the job would run as the project's owner, or for nobody.
        guard case .moveToRejected(_, let none, _) = decide(#"{"kind": "system.noop"}"#) else {
            Issue.record("a job without a user was not rejected"); return
        }
        #expect(none.map(\.path) == ["$.user_id"])
        guard case .moveToRejected = decide(#"{"kind": "render.edit", "project_id": "\#(Self.bob.uuidString)"}"#) else {
            Issue.record("a project's job without a user was not rejected"); return
        }
    }

    @Test func anyUserOwnerMaySubmitForAnyoneAndForNobody() {
        for text in [#"{"kind": "system.noop", "user_id": "\#(Self.bob.uuidString)"}"#, #"{"kind": "system.noop"}"#] {
            var m = machine()
            _ = m.start()
            _ = m.inspected(regular)
            guard case .submit = m.read(Array(text.utf8)) else { Issue.record("\(text) not submitted"); return }
        }
    }

    @Test func fileOthersMayWriteOrWithASecondNameIsRejectedUnread() {
        for (facts, got) in [
            (SpoolFileLifecycle.Facts(type: .regular, size: 20, ownerUID: 1000, mode: 0o620), "mode 0620 (writable by group or others)"),
            (SpoolFileLifecycle.Facts(type: .regular, size: 20, ownerUID: 1000, mode: 0o646), "mode 0646 (writable by group or others)"),
            (SpoolFileLifecycle.Facts(type: .regular, size: 20, ownerUID: 1000, linkCount: 3), "a file with 3 hard links"),
        ] {
            var m = machine()
            _ = m.start()
            guard case .moveToRejected(_, let problems, _) = m.inspected(facts) else { Issue.record("\(facts) not rejected"); continue }
            #expect(problems.map(\.got) == [got])
        }
    }

    @Test func unreadableFileIsRejectedWithWhatToDo() {
        var m = machine(limits: .init(maxFileBytes: 1000, submitters: SpoolSubmitters(anyUserUIDs: [1000]), serviceUID: 998))
        _ = m.start()
        guard case .moveToRejected(_, let problems, _) = m.unreadable(.init(type: .regular, size: 20, ownerUID: 1000, mode: 0o600)) else {
            Issue.record("not rejected"); return
        }
        #expect(problems == [IntakeProblem(
            path: "$", expected: "a file reeld (uid 998) may read, e.g. mode 0640 with the spool's group",
            got: "permission denied (mode 0600, owner uid 1000)")])
    }

    @Test func replacedFileFinishesDeferredNamingTheQueuedJob() {
        var m = machine()
        _ = m.start()
        _ = m.inspected(regular)
        _ = m.read(noop)
        let receipt = SubmitReceipt(jobID: UUID(), created: true)
        _ = m.submitted(receipt)
        guard case .finish(.deferred(file: "a.json", let reason)) = m.replaced() else { Issue.record("not deferred"); return }
        #expect(reason.contains(receipt.jobID.lowercasedText))
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
        guard case .moveToRejected(_, let problems, _) = m.submitRejected(SubmitRejection("unknown user", path: "$.user_id")) else {
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

extension SpoolFileLifecycleTests {
    /// A 1 MiB file can hold a hundred thousand unknown arguments; listing a problem for each
    /// made a reason twenty times the file's size. The reason lists the first ones and a count.
    @Test func aReasonListsAtMostAHundredProblems() {
        let args = (0..<5000).map { "\"k\($0)\": \($0)" }.joined(separator: ",")
        var m = machine(limits: .init(maxFileBytes: 1 << 20, submitters: SpoolSubmitters(anyUserUIDs: [1000])))
        _ = m.start()
        _ = m.inspected(regular)
        guard case .moveToRejected(_, let problems, _) = m.read(Array(#"{"kind": "system.noop", "args": {\#(args)}}"#.utf8)) else {
            Issue.record("not rejected"); return
        }
        #expect(problems.count == SpoolFileLifecycle.maxReportedProblems)
        #expect(problems.last?.message == "$: 4901 more problems not listed", "\(String(describing: problems.last))")
    }
}
