import Foundation
import ReelCore
import Testing
@testable import ReelIntake

@Suite struct JobFileDecoderTests {
    let decoder = JobFileDecoder()

    func problems(_ text: String) -> [IntakeProblem] {
        do {
            _ = try decoder.decode(Array(text.utf8))
            return []
        } catch {
            return error.problems
        }
    }

    @Test func fullJobFileDecodesEveryField() throws {
        let user = UUID(), project = UUID()
        let job = try decoder.decode(Array("""
            {"kind": "workflow.run", "args": {"brief": "A lighthouse at dusk", "scenes": 4},
             "user_id": "\(user)", "project_id": "\(project)", "idempotency_key": "brief-42",
             "priority": 10, "run_at": "2026-01-31T09:30:00Z", "max_attempts": 5}
            """.utf8))
        #expect(job.kind == .workflowRun)
        #expect(job.args == ["brief": "A lighthouse at dusk", "scenes": 4])
        #expect(job.userID == user)
        #expect(job.projectID == project)
        #expect(job.idempotencyKey == "brief-42")
        #expect(job.priority == 10)
        #expect(job.runAt == Date(timeIntervalSince1970: 1_769_851_800))
        #expect(job.maxAttempts == 5)
    }

    /// A picture larger than the renderer takes (4096 × 4096) is refused at intake, naming the
    /// field, rather than queued to fail later (or to hold hundreds of megabytes per frame).
    @Test func anImageLargerThanThePictureLimitIsRefusedAtIntake() throws {
        let project = UUID()
        let refused = problems(#"{"kind": "image.generate", "project_id": "\#(project)", "args": {"prompt": "a lighthouse", "width": 8192, "height": 2048}}"#)
        #expect(refused.map(\.path) == ["$.args.width"], "\(refused)")
        #expect(problems(#"{"kind": "image.generate", "project_id": "\#(project)", "args": {"prompt": "a lighthouse", "width": 4096, "height": 4096}}"#).isEmpty)
    }

    @Test func onlyKindIsRequiredAndDefaultsApply() throws {
        let job = try decoder.decode(Array(#"{"kind": "system.noop"}"#.utf8))
        #expect(job.args == [:])
        #expect(job.priority == 100)
        #expect(job.runAt == nil)
        #expect(job.idempotencyKey?.hasPrefix("spool:") == true)
    }

    @Test func runAtAcceptsFractionalSecondsAndOffsets() throws {
        let a = try decoder.decode(Array(#"{"kind": "system.noop", "run_at": "2026-01-31T10:30:00.250+01:00"}"#.utf8))
        #expect(a.runAt == Date(timeIntervalSince1970: 1_769_851_800.25))
    }

    @Test func keyWithoutIdempotencyKeyIsHashOfContent() throws {
        let text = #"{"kind": "system.sleep", "args": {"seconds": 1}}"#
        let first = try decoder.decode(Array(text.utf8))
        let second = try decoder.decode(Array(text.utf8))
        #expect(first.idempotencyKey == second.idempotencyKey)
        #expect(first.idempotencyKey == JobFileDecoder.contentKey(Array(text.utf8)))
        #expect(first.idempotencyKey?.count == "spool:".count + 64)
        let other = try decoder.decode(Array(#"{"kind": "system.sleep", "args": {"seconds": 2}}"#.utf8))
        #expect(other.idempotencyKey != first.idempotencyKey)
    }

    @Test func malformedJSONIsOneProblemAtTheRoot() {
        let found = problems(#"{"kind": "system.noop", "#)
        #expect(found.count == 1)
        #expect(found.first?.path == "$")
        #expect(found.first?.expected == "a JSON object")
        #expect(found.first?.got.hasPrefix("malformed JSON") == true)
    }

    @Test func documentThatIsNotAnObjectIsRefused() {
        #expect(problems(#"["system.noop"]"#) == [IntakeProblem(path: "$", expected: "a JSON object", got: "array of 1 items")])
    }

    @Test func unknownKindNamesTheKnownOnes() {
        let found = problems(#"{"kind": "video.upscale"}"#)
        #expect(found.map(\.path) == ["$.kind"])
        #expect(found.first?.got == #"string "video.upscale" (13 characters)"#)
        #expect(found.first?.expected.contains("\"workflow.run\"") == true)
    }

    @Test func missingKindIsReported() {
        #expect(problems(#"{"args": {}}"#).map(\.path) == ["$.kind"])
    }

    @Test func unknownTopLevelFieldIsAnError() {
        let found = problems(#"{"kind": "system.noop", "priorty": 5}"#)
        #expect(found.map(\.path) == ["$.priorty"])
        #expect(found.first?.got == "integer 5")
    }

    @Test func wrongArgumentTypeNamesPathExpectedAndGot() {
        let found = problems(#"{"kind": "workflow.run", "project_id": "8d0f3b2a-1c4e-4f6a-b7d9-5e2a1c3b4d6f", "args": {"brief": 42}}"#)
        #expect(found == [IntakeProblem(path: "$.args.brief", expected: "a string of 1 to 4000 characters", got: "integer 42")])
    }

    @Test func missingRequiredArgumentIsReported() {
        let found = problems(#"{"kind": "image.generate", "project_id": "8d0f3b2a-1c4e-4f6a-b7d9-5e2a1c3b4d6f", "args": {"width": 1024}}"#)
        #expect(found == [IntakeProblem(path: "$.args.prompt", expected: "a string of at least 1 characters", got: "nothing (field missing)")])
    }

    @Test func everyProblemIsReportedNotJustTheFirst() {
        let found = problems("""
            {"kind": "video.generate", "user_id": "nope", "project_id": "8d0f3b2a-1c4e-4f6a-b7d9-5e2a1c3b4d6f", "priority": 1.5,
             "args": {"prompt": "", "duration_seconds": 90, "start_asset_id": "x", "colour": "red"}}
            """)
        #expect(Set(found.map(\.path)) == [
            "$.user_id", "$.priority", "$.args.prompt", "$.args.duration_seconds", "$.args.start_asset_id", "$.args.colour",
        ])
    }

    @Test func argumentRangesAreEnforced() {
        #expect(problems(#"{"kind": "system.sleep", "args": {"seconds": 86401}}"#).map(\.path) == ["$.args.seconds"])
        #expect(problems(#"{"kind": "system.sleep", "args": {"seconds": 86400}}"#).isEmpty)
        #expect(problems(#"{"kind": "workflow.run", "project_id": "8d0f3b2a-1c4e-4f6a-b7d9-5e2a1c3b4d6f", "args": {"brief": "b", "scenes": 13}}"#).map(\.path) == ["$.args.scenes"])
        #expect(problems(#"{"kind": "workflow.run", "project_id": "8d0f3b2a-1c4e-4f6a-b7d9-5e2a1c3b4d6f", "args": {"brief": "b", "scenes": 2.5}}"#).map(\.path) == ["$.args.scenes"])
        let long = String(repeating: "é", count: 5001)
        #expect(problems(#"{"kind": "audio.speech", "project_id": "8d0f3b2a-1c4e-4f6a-b7d9-5e2a1c3b4d6f", "args": {"text": "\#(long)"}}"#).map(\.path) == ["$.args.text"])
        // The queue's own range (reeld.submit_job), so a file is refused here, with a path.
        #expect(problems(#"{"kind": "system.noop", "priority": 1001}"#).map(\.path) == ["$.priority"])
        #expect(problems(#"{"kind": "system.noop", "priority": -1}"#).map(\.path) == ["$.priority"])
        #expect(problems(#"{"kind": "system.noop", "priority": 0}"#).isEmpty)
    }

    @Test func integersMayBeWrittenWithAZeroFraction() {
        #expect(problems(#"{"kind": "workflow.run", "project_id": "8d0f3b2a-1c4e-4f6a-b7d9-5e2a1c3b4d6f", "args": {"brief": "b", "scenes": 4.0}, "priority": 5.0}"#).isEmpty)
    }

    @Test func enumeratedArgumentsOnlyTakeTheirValues() {
        #expect(problems(#"{"kind": "image.generate", "project_id": "8d0f3b2a-1c4e-4f6a-b7d9-5e2a1c3b4d6f", "args": {"prompt": "p", "role": "hero"}}"#).isEmpty)
        let found = problems(#"{"kind": "image.generate", "project_id": "8d0f3b2a-1c4e-4f6a-b7d9-5e2a1c3b4d6f", "args": {"prompt": "p", "role": "villain"}}"#)
        #expect(found.first?.expected == #"one of "hero", "start_frame", "end_frame""#)
        #expect(problems(#"{"kind": "render.export", "project_id": "8d0f3b2a-1c4e-4f6a-b7d9-5e2a1c3b4d6f", "args": {"format": "mov"}}"#).map(\.path) == ["$.args.format"])
    }

    /// PostgreSQL's text and jsonb cannot hold U+0000: a key cut at it would make two jobs one.
    @Test func aNULCharacterAnywhereIsRefusedWithItsPath() {
        let found = problems(#"{"kind": "system.sleep", "args": {"seconds": 1, "note": ["x", "a\u0000b"]}, "idempotency_key": "k\u0000one"}"#)
        #expect(found.contains { $0.path == "$.idempotency_key" && $0.got == "a string holding U+0000" })
        #expect(found.contains { $0.path == "$.args.note[1]" && $0.got == "a string holding U+0000" })
        #expect(problems(#"{"kind": "system.noop", "idempotency_key": "k-one"}"#).isEmpty)
    }

    @Test func aWorkflowRunNeedsAUserOrAProject() {
        let found = problems(#"{"kind": "workflow.run", "args": {"brief": "A lighthouse keeper's last night"}}"#)
        #expect(found.map(\.path) == ["$.user_id"])
        #expect(found.first?.expected.contains("workflow.run needs a user or a project") == true)
        #expect(problems(#"{"kind": "workflow.run", "user_id": "2f1c9a7e-5b1e-4c7a-9d2e-0b8e6f1a3c44", "args": {"brief": "b"}}"#).isEmpty)
    }

    @Test func everyKindThatWorksOnAProjectNeedsOne() {
        for kind in ["text.storyboard", "image.generate", "video.generate", "audio.speech", "audio.music", "audio.sfx",
                     "render.edit", "render.export"] {
            let found = problems(#"{"kind": "\#(kind)", "args": {"prompt": "p", "brief": "b", "text": "t"}}"#)
            #expect(found.map(\.path).contains("$.project_id"), "\(kind)")
        }
    }

    @Test func anyKindMayNameProviderAndModel() {
        #expect(problems(#"{"kind": "audio.sfx", "project_id": "8d0f3b2a-1c4e-4f6a-b7d9-5e2a1c3b4d6f", "args": {"prompt": "door", "provider": "elevenlabs", "model": "sfx-2"}}"#).isEmpty)
        #expect(problems(#"{"kind": "system.noop", "args": {"provider": 3}}"#).map(\.path) == ["$.args.provider"])
    }

    @Test func renderEditNeedsAProjectAtTopLevel() {
        #expect(problems(#"{"kind": "render.edit"}"#).map(\.path) == ["$.project_id"])
        #expect(problems(#"{"kind": "render.edit", "project_id": "\#(UUID())"}"#).isEmpty)
    }

    @Test func oddFieldNamesAreQuotedInPaths() {
        #expect(problems(#"{"kind": "system.noop", "args": {"a b": 1}}"#).map(\.path) == ["$.args['a b']"])
    }

    @Test func everyKnownKindHasArgumentRules() {
        for kind in JobKind.all {
            #expect(KindArguments.table[kind] != nil, "no argument rules for \(kind)")
        }
    }
}
