import Foundation
import Glibc
import Logging
import ReelCore
import Testing
@testable import ReelIntake

/// Who a spool file acts for, and who can see what became of it. The tests run as root, which
/// plays both reeld (owning the spool) and, through `chown`, the submitters; root's group 0
/// plays the spool's submit group.
@Suite struct SpoolOwnershipTests {
    let logger = Logger(label: "test.intake")
    static let submitter: UInt32 = 4242
    static let otherSubmitter: UInt32 = 4243
    static let user = "2f1c9a7e-5b1e-4c7a-9d2e-0b8e6f1a3c44"

    /// Drops `contents` as `name`, owned by `uid` with `mode`, the way a submitter's own file arrives.
    func drop(_ spool: TemporarySpool, _ name: String, _ contents: String, uid: UInt32, mode: mode_t = 0o644) {
        spool.drop(name, contents)
        #expect(chown(spool.path("new", name), uid, uid) == 0)
        #expect(chmod(spool.path("new", name), mode) == 0)
    }

    @Test func aFileOfAnUnlistedOwnerIsRejectedNamingTheUid() async throws {
        let spool = TemporarySpool()
        defer { spool.remove() }
        let submitter = FakeSubmitter()
        let intake = try SpoolProcessor(configuration: spool.configuration(), submitter: submitter, logger: logger)
        drop(spool, "u.json", #"{"kind": "system.noop", "user_id": "\#(Self.user)"}"#, uid: Self.submitter)

        await intake.scan()

        #expect(submitter.submissions.isEmpty, "a job was queued for a user its file's owner was never allowed to act for")
        #expect(spool.names(in: "accepted").isEmpty)
        let report = try #require(spool.rejectionReport(for: "u.json"), "\(spool.names(in: "rejected"))")
        #expect(report.errors.contains { $0.message.contains("uid \(Self.submitter)") }, "\(report.errors)")
    }

    /// Another submitter can neither list the results nor read a reason; the file's owner can
    /// read its own reason by name.
    @Test func resultsAreNotListableAndAReasonIsReadableByItsOwnerOnly() async throws {
        let spool = TemporarySpool()
        defer { spool.remove() }
        let intake = try SpoolProcessor(configuration: spool.configuration(), submitter: FakeSubmitter(), logger: logger)
        // As tmpfiles.d sets the spool up: the submit group may pass through the root.
        #expect(chmod(spool.root, 0o710) == 0)
        drop(spool, "r.json", "not json", uid: Self.submitter)
        await intake.scan()
        #expect(spool.names(in: "rejected") == ["r.json", "r.json.error.json"])

        let reason = spool.path("rejected", "r.json.error.json")
        #expect(runAs(uid: Self.submitter, gid: 0, ["/bin/cat", reason]) == 0, "the owner cannot read why its file was rejected")
        #expect(runAs(uid: Self.otherSubmitter, gid: 0, ["/bin/cat", reason]) != 0, "another submitter reads the reason")
        for directory in ["accepted", "rejected"] {
            #expect(runAs(uid: Self.otherSubmitter, gid: 0, ["/bin/ls", spool.root + "/" + directory]) != 0, "the group lists \(directory)/")
        }
    }

    /// A file others may write holds what they wrote, not what its owner did.
    @Test func aFileTheGroupMayWriteIsRejectedUnread() async throws {
        let spool = TemporarySpool()
        defer { spool.remove() }
        let submitter = FakeSubmitter()
        let intake = try SpoolProcessor(configuration: spool.configuration(), submitter: submitter, logger: logger)
        drop(spool, "w.json", #"{"kind": "system.noop"}"#, uid: 0, mode: 0o664)

        await intake.scan()

        #expect(submitter.submissions.isEmpty)
        #expect(spool.rejectionReport(for: "w.json")?.errors.map(\.got) == ["mode 0664 (writable by group or others)"])
    }

    /// A second name may be a link to someone else's file, made to submit it as them.
    @Test func aFileWithASecondHardLinkIsRejected() async throws {
        let spool = TemporarySpool()
        defer { spool.remove() }
        let submitter = FakeSubmitter()
        let intake = try SpoolProcessor(configuration: spool.configuration(), submitter: submitter, logger: logger)
        let elsewhere = spool.base + "/victim.json"
        try Data(#"{"kind": "system.noop"}"#.utf8).write(to: URL(fileURLWithPath: elsewhere))
        #expect(link(elsewhere, spool.path("new", "l.json")) == 0)

        await intake.scan()

        #expect(submitter.submissions.isEmpty)
        #expect(spool.rejectionReport(for: "l.json")?.errors.map(\.got) == ["a file with 2 hard links"])
    }

    // MARK: - A file replaced under its name

    /// Replaces `new/name` with a file of `contents`, by rename, as its owner can at any time.
    static func replace(_ spool: TemporarySpool, _ name: String, with contents: String) {
        let other = spool.path("tmp", ".replacement")
        precondition(FileManager.default.createFile(atPath: other, contents: Data(contents.utf8)))
        precondition(rename(other, spool.path("new", name)) == 0)
    }

    @Test func aFileReplacedAfterItWasReadIsNotFiledAsTheOneRead() async throws {
        let spool = TemporarySpool()
        defer { spool.remove() }
        let submitter = FakeSubmitter()
        let first = #"{"kind": "system.noop", "idempotency_key": "first"}"#
        let second = #"{"kind": "system.noop", "idempotency_key": "second"}"#
        let intake = try SpoolProcessor(
            configuration: spool.configuration(), submitter: submitter, logger: logger,
            checkpoint: { if $0 == .read { Self.replace(spool, "s.json", with: second) } })
        spool.drop("s.json", first)

        let outcome = await intake.process(fileNamed: "s.json")

        #expect(submitter.submissions.map(\.idempotencyKey) == ["first"])
        // The second file was never submitted: it must not sit in accepted/ as if it had been.
        #expect(spool.contents("accepted", "s.json") != second, "an unsubmitted file was filed as accepted")
        #expect(spool.names(in: "new") == ["s.json"] && spool.contents("new", "s.json") == second, "\(outcome)")
        guard case .deferred = outcome else { Issue.record("\(outcome)"); return }

        // Its own turn.
        let after = try SpoolProcessor(configuration: spool.configuration(), submitter: submitter, logger: logger)
        await after.scan()
        #expect(submitter.submissions.map(\.idempotencyKey) == ["first", "second"])
        #expect(spool.contents("accepted", "s.json") == second)
        #expect(spool.names(in: "new").isEmpty)
    }

    @Test func aFileReplacedMidMoveStaysForItsOwnTurn() async throws {
        let spool = TemporarySpool()
        defer { spool.remove() }
        let submitter = FakeSubmitter()
        let first = #"{"kind": "system.noop", "idempotency_key": "first"}"#
        let second = #"{"kind": "system.noop", "idempotency_key": "second"}"#
        let intake = try SpoolProcessor(
            configuration: spool.configuration(), submitter: submitter, logger: logger,
            checkpoint: { if $0 == .linked { Self.replace(spool, "m.json", with: second) } })
        spool.drop("m.json", first)

        let outcome = await intake.process(fileNamed: "m.json")

        guard case .accepted(_, _, storedAs: "m.json") = outcome else { Issue.record("\(outcome)"); return }
        #expect(spool.contents("accepted", "m.json") == first)
        // The replacement arrived after the link: removing the old name must not take it along.
        #expect(spool.contents("new", "m.json") == second, "the replacing file was lost unsubmitted")
        #expect(submitter.submissions.map(\.idempotencyKey) == ["first"])
    }

    @Test func aRejectedFileReplacedBeforeItsMoveLeavesNoReasonForTheWrongFile() async throws {
        let spool = TemporarySpool()
        defer { spool.remove() }
        let submitter = FakeSubmitter()
        let good = #"{"kind": "system.noop", "idempotency_key": "good"}"#
        let intake = try SpoolProcessor(
            configuration: spool.configuration(), submitter: submitter, logger: logger,
            checkpoint: { if $0 == .reasonWritten { Self.replace(spool, "b.json", with: good) } })
        spool.drop("b.json", "not json")

        let outcome = await intake.process(fileNamed: "b.json")

        #expect(spool.contents("rejected", "b.json") != good, "a valid, unsubmitted file was filed as rejected")
        #expect(spool.names(in: "rejected").isEmpty, "\(outcome)")
        #expect(spool.contents("new", "b.json") == good)
        let after = try SpoolProcessor(configuration: spool.configuration(), submitter: submitter, logger: logger)
        await after.scan()
        #expect(submitter.submissions.map(\.idempotencyKey) == ["good"])
        #expect(spool.contents("accepted", "b.json") == good)
    }
}
