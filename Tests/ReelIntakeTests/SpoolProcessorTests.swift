import Foundation
import Glibc
import Logging
import ReelCore
import Testing
@testable import ReelIntake

@Suite struct SpoolProcessorTests {
    let logger = Logger(label: "test.intake")

    func processor(_ spool: TemporarySpool, _ submitter: FakeSubmitter, _ configuration: SpoolConfiguration? = nil) throws -> SpoolProcessor {
        try SpoolProcessor(configuration: configuration ?? spool.configuration(), submitter: submitter, logger: logger)
    }

    @Test func createsTheSpoolDirectoriesWithMode0750AndResultsWithoutGroupRead() throws {
        let spool = TemporarySpool()
        defer { spool.remove() }
        _ = try processor(spool, FakeSubmitter())
        for (directory, mode) in [("", 0o750), ("/tmp", 0o750), ("/new", 0o750), ("/accepted", 0o710), ("/rejected", 0o710)] {
            var st = stat()
            #expect(stat(spool.root + directory, &st) == 0)
            #expect(st.st_mode & 0o777 == mode_t(mode) & ~currentUmask(), "\(directory)")
        }
    }

    @Test func resultDirectoriesMadeListableElsewhereAreClosedAtStart() throws {
        let spool = TemporarySpool()
        defer { spool.remove() }
        for directory in ["", "/accepted", "/rejected"] {
            #expect(mkdir(spool.root + directory, 0o777) == 0 && chmod(spool.root + directory, 0o2775) == 0)
        }
        _ = try processor(spool, FakeSubmitter())
        for directory in ["/accepted", "/rejected"] {
            var st = stat()
            #expect(stat(spool.root + directory, &st) == 0)
            #expect(st.st_mode & 0o7777 == 0o2710, "\(directory)")
        }
    }

    @Test func validFileIsSubmittedOnceWithItsKeyAndAccepted() async throws {
        let spool = TemporarySpool()
        defer { spool.remove() }
        let submitter = FakeSubmitter()
        let intake = try processor(spool, submitter)
        spool.drop("1.json", #"{"kind": "workflow.run", "project_id": "8d0f3b2a-1c4e-4f6a-b7d9-5e2a1c3b4d6f", "args": {"brief": "A heron"}, "idempotency_key": "heron-1"}"#)

        let outcomes = await intake.scan()

        #expect(submitter.submissions.map(\.idempotencyKey) == ["heron-1"])
        #expect(submitter.submissions.first?.args == ["brief": "A heron"])
        guard case .accepted(file: "1.json", let receipt, storedAs: "1.json")? = outcomes.first else {
            Issue.record("not accepted: \(outcomes)"); return
        }
        #expect(receipt.created)
        #expect(spool.names(in: "new").isEmpty)
        #expect(spool.names(in: "accepted") == ["1.json"])
        #expect(spool.names(in: "rejected").isEmpty)
    }

    @Test func sameContentTwiceGetsTheSameContentKey() async throws {
        let spool = TemporarySpool()
        defer { spool.remove() }
        let submitter = FakeSubmitter()
        let intake = try processor(spool, submitter)
        let text = #"{"kind": "system.sleep", "args": {"seconds": 5}}"#
        spool.drop("a.json", text)
        spool.drop("b.json", text)

        await intake.scan()

        let keys = submitter.submissions.map(\.idempotencyKey)
        #expect(keys.count == 2)
        #expect(keys[0] == keys[1])
        #expect(keys[0] == JobFileDecoder.contentKey(Array(text.utf8)))
        #expect(submitter.jobCount == 1)
        #expect(spool.names(in: "accepted") == ["a.json", "b.json"])
    }

    @Test func malformedJSONIsRejectedWithItsReason() async throws {
        let spool = TemporarySpool()
        defer { spool.remove() }
        let submitter = FakeSubmitter()
        spool.drop("bad.json", #"{"kind": "system.noop""#)

        try await processor(spool, submitter).scan()

        #expect(submitter.submissions.isEmpty)
        #expect(spool.names(in: "rejected") == ["bad.json", "bad.json.error.json"])
        let report = try #require(spool.rejectionReport(for: "bad.json"))
        #expect(report.file == "bad.json")
        #expect(report.errors.first?.path == "$")
        #expect(report.errors.first?.got.hasPrefix("malformed JSON") == true)
        #expect(JobFileDecoder.parseISO8601(report.rejectedAt) != nil)
        #expect(spool.contents("rejected", "bad.json") == #"{"kind": "system.noop""#)
    }

    @Test func unknownKindIsRejectedNamingTheField() async throws {
        let spool = TemporarySpool()
        defer { spool.remove() }
        spool.drop("k.json", #"{"kind": "video.upscale"}"#)

        try await processor(spool, FakeSubmitter()).scan()

        let report = try #require(spool.rejectionReport(for: "k.json"))
        #expect(report.errors.map(\.path) == ["$.kind"])
        #expect(report.errors.first?.got == #"string "video.upscale" (13 characters)"#)
    }

    @Test func wrongArgumentTypeIsRejectedWithPathExpectedAndGot() async throws {
        let spool = TemporarySpool()
        defer { spool.remove() }
        spool.drop("t.json", #"{"kind": "workflow.run", "project_id": "8d0f3b2a-1c4e-4f6a-b7d9-5e2a1c3b4d6f", "args": {"brief": ["not", "a", "string"]}}"#)

        try await processor(spool, FakeSubmitter()).scan()

        let report = try #require(spool.rejectionReport(for: "t.json"))
        #expect(report.errors == [IntakeProblem(path: "$.args.brief", expected: "a string of 1 to 4000 characters", got: "array of 3 items")])
        // The raw file speaks the documented field names.
        let raw = try JSONValue(parsing: Array((spool.contents("rejected", "t.json.error.json") ?? "").utf8))
        #expect(raw["errors"]?.arrayValue?.first?["path"] == "$.args.brief")
        #expect(raw["errors"]?.arrayValue?.first?["expected"] != nil)
        #expect(raw["errors"]?.arrayValue?.first?["got"] == "array of 3 items")
        #expect(raw["errors"]?.arrayValue?.first?["message"] != nil)
        #expect(raw["rejected_at"] != nil)
    }

    @Test func symlinkIsRejectedAndItsTargetLeftAlone() async throws {
        let spool = TemporarySpool()
        defer { spool.remove() }
        let submitter = FakeSubmitter()
        let intake = try processor(spool, submitter)
        let target = spool.base + "/secret.json"
        try Data(#"{"kind": "system.noop"}"#.utf8).write(to: URL(fileURLWithPath: target))
        #expect(symlink(target, spool.path("new", "link.json")) == 0)

        await intake.scan()

        #expect(submitter.submissions.isEmpty)
        #expect(spool.rejectionReport(for: "link.json")?.errors.first?.got == "a symbolic link")
        #expect(FileManager.default.fileExists(atPath: target))
    }

    @Test func oversizedFileIsRejectedUnread() async throws {
        let spool = TemporarySpool()
        defer { spool.remove() }
        let submitter = FakeSubmitter()
        let intake = try processor(spool, submitter, spool.configuration(maxFileBytes: 64))
        spool.drop("big.json", #"{"kind": "workflow.run", "project_id": "8d0f3b2a-1c4e-4f6a-b7d9-5e2a1c3b4d6f", "args": {"brief": "\#(String(repeating: "x", count: 100))"}}"#)

        await intake.scan()

        #expect(submitter.submissions.isEmpty)
        let problem = try #require(spool.rejectionReport(for: "big.json")?.errors.first)
        #expect(problem.expected == "a file of at most 64 bytes")
    }

    @Test func fifoIsRejectedWithoutBlocking() async throws {
        let spool = TemporarySpool()
        defer { spool.remove() }
        let submitter = FakeSubmitter()
        let intake = try processor(spool, submitter)
        #expect(mkfifo(spool.path("new", "pipe.json"), 0o600) == 0)

        await intake.scan()

        #expect(submitter.submissions.isEmpty)
        #expect(spool.rejectionReport(for: "pipe.json")?.errors.first?.got == "a FIFO")
        #expect(spool.names(in: "new").isEmpty)
    }

    @Test func fileOfAnOwnerNotListedIsRejectedUnread() async throws {
        let spool = TemporarySpool()
        defer { spool.remove() }
        let submitter = FakeSubmitter()
        let intake = try processor(spool, submitter)
        spool.drop("o.json", #"{"kind": "system.noop"}"#)
        #expect(chown(spool.path("new", "o.json"), 990, 990) == 0)

        await intake.scan()

        #expect(submitter.submissions.isEmpty)
        #expect(spool.rejectionReport(for: "o.json")?.errors.first?.got == "owner uid 990")
    }

    @Test func fileOfAListedOwnerIsAccepted() async throws {
        let spool = TemporarySpool()
        defer { spool.remove() }
        let intake = try processor(spool, FakeSubmitter(), spool.configuration(submitters: SpoolSubmitters(anyUserUIDs: [990])))
        spool.drop("o.json", #"{"kind": "system.noop"}"#)
        #expect(chown(spool.path("new", "o.json"), 990, 990) == 0)
        await intake.scan()
        #expect(spool.names(in: "accepted") == ["o.json"])
    }

    @Test func pathTraversalNamesAreRefusedWithoutTouchingAnything() async throws {
        let spool = TemporarySpool()
        defer { spool.remove() }
        let submitter = FakeSubmitter()
        let intake = try processor(spool, submitter)
        let outside = spool.root + "/escape.json"
        try Data(#"{"kind": "system.noop"}"#.utf8).write(to: URL(fileURLWithPath: outside))

        for name in ["../escape.json", "../../spool/escape.json", "/etc/passwd", "sub/x.json", ".hidden.json", ".."] {
            let outcome = await intake.process(fileNamed: name)
            guard case .ignored = outcome else { Issue.record("\(name) gave \(outcome)"); continue }
        }
        #expect(submitter.submissions.isEmpty)
        #expect(FileManager.default.fileExists(atPath: outside))
        #expect(spool.names(in: "rejected").isEmpty)
    }

    /// `rejected/a.error.json` is the reason beside a rejected `a`: a job file of that name is
    /// not taken, so that it can never be confused with, or replaced by, another file's reason.
    @Test func aFileNamedLikeARejectionReasonIsNotTaken() async throws {
        let spool = TemporarySpool()
        defer { spool.remove() }
        let submitter = FakeSubmitter()
        let intake = try processor(spool, submitter)
        spool.drop("a.error.json", #"{"kind": "nonsense"}"#)
        let outcomes = await intake.scan()
        #expect(outcomes.count == 1)
        guard case .ignored = outcomes.first else { Issue.record("\(String(describing: outcomes.first))"); return }
        spool.drop("a", #"{"kind": "nonsense"}"#)
        _ = await intake.scan()
        #expect(spool.names(in: "rejected") == ["a", "a.error.json"])
        #expect(spool.names(in: "new") == ["a.error.json"])
        #expect(submitter.submissions.isEmpty)
    }

    @Test func hiddenAndNonUTF8NamesInNewAreLeftAlone() async throws {
        let spool = TemporarySpool()
        defer { spool.remove() }
        let submitter = FakeSubmitter()
        let intake = try processor(spool, submitter)
        spool.drop(".partial.json", #"{"kind": "system.noop"}"#)
        var raw = Array((spool.root + "/new/bad-").utf8) + [0xFF, 0xFE] + Array(".json".utf8) + [0]
        let fd = raw.withUnsafeMutableBufferPointer { p in
            p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: p.count) { open($0, O_CREAT | O_WRONLY, 0o600) }
        }
        #expect(fd >= 0)
        close(fd)

        let outcomes = await intake.scan()

        #expect(outcomes.count == 2)
        for outcome in outcomes {
            guard case .ignored = outcome else { Issue.record("\(outcome)"); continue }
        }
        #expect(submitter.submissions.isEmpty)
        #expect(spool.names(in: "rejected").isEmpty)
    }

    @Test func transientSubmitFailureLeavesTheFileForALaterScan() async throws {
        let spool = TemporarySpool()
        defer { spool.remove() }
        let submitter = FakeSubmitter(.failTransiently(count: 1))
        let intake = try processor(spool, submitter)
        spool.drop("a.json", #"{"kind": "system.noop", "idempotency_key": "a"}"#)
        spool.drop("b.json", #"{"kind": "system.noop", "idempotency_key": "b"}"#)

        let first = await intake.scan()
        guard case .deferred(file: "a.json", _)? = first.first else { Issue.record("\(first)"); return }
        #expect(first.count == 1, "the scan pauses once the queue fails")
        #expect(spool.names(in: "new") == ["a.json", "b.json"])
        #expect(spool.names(in: "rejected").isEmpty)

        await intake.scan()
        #expect(spool.names(in: "new").isEmpty)
        #expect(spool.names(in: "accepted") == ["a.json", "b.json"])
        #expect(submitter.jobCount == 2)
    }

    @Test func queueRefusalRejectsTheFileWithTheQueueMessage() async throws {
        let spool = TemporarySpool()
        defer { spool.remove() }
        let intake = try processor(spool, FakeSubmitter(.refuse(SubmitRejection("no such user", path: "$.user_id"))))
        spool.drop("u.json", #"{"kind": "system.noop", "user_id": "\#(UUID())"}"#)

        await intake.scan()

        #expect(spool.rejectionReport(for: "u.json")?.errors == [
            IntakeProblem(path: "$.user_id", expected: "a job the queue accepts", got: "no such user"),
        ])
    }

    @Test func reprocessingAfterACrashBeforeTheMoveSubmitsTheSameKeyAndCreatesNothing() async throws {
        let spool = TemporarySpool()
        defer { spool.remove() }
        let submitter = FakeSubmitter()
        let intake = try processor(spool, submitter)
        let text = #"{"kind": "audio.speech", "project_id": "8d0f3b2a-1c4e-4f6a-b7d9-5e2a1c3b4d6f", "args": {"text": "Hello"}}"#
        spool.drop("s.json", text)
        // The crashed run: decoded and submitted, then died before moving the file.
        let before = try await submitter.submit(JobFileDecoder().decode(Array(text.utf8)))

        let outcome = await intake.process(fileNamed: "s.json")

        #expect(outcome == .accepted(file: "s.json", receipt: SubmitReceipt(jobID: before.jobID, created: false), storedAs: "s.json"))
        let key = JobFileDecoder.contentKey(Array(text.utf8))
        #expect(submitter.submissions.map(\.idempotencyKey) == [key, key])
        #expect(submitter.jobCount == 1)
    }

    @Test func crashMidMoveIsHealedWithoutADuplicate() async throws {
        let spool = TemporarySpool()
        defer { spool.remove() }
        let intake = try processor(spool, FakeSubmitter())
        spool.drop("m.json", #"{"kind": "system.noop"}"#)
        // The crashed run linked the file into accepted/ but never unlinked it from new/.
        #expect(link(spool.path("new", "m.json"), spool.path("accepted", "m.json")) == 0)

        let outcome = await intake.process(fileNamed: "m.json")

        guard case .accepted(_, _, storedAs: "m.json") = outcome else { Issue.record("\(outcome)"); return }
        #expect(spool.names(in: "accepted") == ["m.json"])
        #expect(spool.names(in: "new").isEmpty)
    }

    @Test func reasonLeftByACrashBeforeTheMoveIsRewrittenBesideItsFile() async throws {
        let spool = TemporarySpool()
        defer { spool.remove() }
        let intake = try processor(spool, FakeSubmitter())
        spool.drop("r.json", "not json")
        // The crashed run wrote the reason durably, then died before moving the file.
        _ = try intake.layout.rejected.writeDurably(Array("{}".utf8), as: "r.json.error.json", via: intake.layout.tmp)

        let outcome = await intake.process(fileNamed: "r.json")

        guard case .rejected(_, _, storedAs: "r.json") = outcome else { Issue.record("\(outcome)"); return }
        #expect(spool.names(in: "rejected") == ["r.json", "r.json.error.json"])
        #expect(spool.rejectionReport(for: "r.json")?.file == "r.json")
        #expect(spool.names(in: "new").isEmpty)
    }

    @Test func nameCollisionsGetASuffixInsteadOfOverwriting() async throws {
        let spool = TemporarySpool()
        defer { spool.remove() }
        let intake = try processor(spool, FakeSubmitter())
        for round in 0..<3 {
            spool.drop("job.json", #"{"kind": "system.sleep", "args": {"seconds": \#(round)}}"#)
            spool.drop("bad.json", "round \(round)")
            await intake.scan()
        }
        #expect(spool.names(in: "accepted") == ["job.1.json", "job.2.json", "job.json"])
        #expect(spool.contents("accepted", "job.json")?.contains("\"seconds\": 0") == true)
        #expect(spool.names(in: "rejected") == [
            "bad.1.json", "bad.1.json.error.json", "bad.2.json", "bad.2.json.error.json", "bad.json", "bad.json.error.json",
        ])
        #expect(spool.contents("rejected", "bad.2.json") == "round 2")
        #expect(spool.rejectionReport(for: "bad.2.json")?.file == "bad.json")
    }

    @Test func fileGoneBeforeItIsReadIsReportedAsVanished() async throws {
        let spool = TemporarySpool()
        defer { spool.remove() }
        let outcome = try await processor(spool, FakeSubmitter()).process(fileNamed: "never.json")
        #expect(outcome == .vanished(file: "never.json"))
    }
}

func currentUmask() -> mode_t {
    let mask = umask(0o022)
    umask(mask)
    return mask
}
