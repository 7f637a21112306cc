import Foundation
import ReelCore
import Testing

@Suite struct TimelineEditingTests {
    @Test func splitAtThePlayheadMakesTwoClipsWithAHardCutBetween() throws {
        // s2 starts at film 3 s (after s1's 1 s fade) at asset time 1 s; film 5 s is asset time 3 s.
        var timeline = Cut.timeline
        timeline.video[1].transition = Transition(type: .wipeleft, duration: 0.5)
        let split = try timeline.applying(.split(clip: "s2", at: 5, newID: nil), assets: Cut.assets)
        #expect(split.video.map(\.id) == ["s1", "s2", "s2-b", "s3"])
        #expect(split.video[1].inPoint == 1 && split.video[1].outPoint == 3 && split.video[1].transition == nil)
        #expect(split.video[2].inPoint == 3 && split.video[2].outPoint == 5)
        #expect(split.video[2].transition == Transition(type: .wipeleft, duration: 0.5))
        #expect(split.duration == timeline.duration)
    }

    @Test func splitInsideATransitionIsRefused() {
        let error = #expect(throws: TimelineInvalid.self) { try Cut.timeline.applying(.split(clip: "s2", at: 3.5, newID: "x"), assets: Cut.assets) }
        #expect(error?.problems.first?.element == #"video[1] "s2""#)
        #expect(error?.problems.first?.message.contains("plays alone from 4 to 7 s") == true)
    }

    @Test func trimThatLeavesTheTransitionTooLongIsRefusedNamingTheClip() throws {
        let trimmed = try Cut.timeline.applying(.trim(clip: "s3", inPoint: 3, outPoint: nil), assets: Cut.assets)
        #expect(trimmed.video[2].inPoint == 3 && trimmed.video[2].outPoint == 6)
        #expect(trimmed.duration == 10)
        let error = #expect(throws: TimelineInvalid.self) {
            try Cut.timeline.applying(.trim(clip: "s2", inPoint: 4.5, outPoint: 5), assets: Cut.assets)
        }
        #expect(error?.problems.contains { $0.element == #"video[0] "s1""# && $0.message.contains("longer than the next clip \"s2\"") } == true)
    }

    @Test func trimPastTheAssetsEndIsRefused() {
        let error = #expect(throws: TimelineInvalid.self) { try Cut.timeline.applying(.trim(clip: "s1", inPoint: nil, outPoint: 9), assets: Cut.assets) }
        #expect(error?.problems == [TimelineProblem(element: #"video[0] "s1""#, message: #"out point 9 s is past the end of asset "a" (6 s)"#)])
    }

    @Test func moveCarriesTheOutgoingTransitionUnlessTheClipLandsLast() throws {
        let moved = try Cut.timeline.applying(.move(clip: "s3", to: 0), assets: Cut.assets)
        #expect(moved.video.map(\.id) == ["s3", "s1", "s2"])
        #expect(moved.video[1].transition?.duration == 1)
        let last = try Cut.timeline.applying(.move(clip: "s1", to: 2), assets: Cut.assets)
        #expect(last.video.map(\.id) == ["s2", "s3", "s1"])
        #expect(last.video.allSatisfy { $0.transition == nil })
        #expect(throws: TimelineInvalid.self) { try Cut.timeline.applying(.move(clip: "s1", to: 3), assets: Cut.assets) }
    }

    @Test func deleteAndInsert() throws {
        let deleted = try Cut.timeline.applying(.delete(clip: "s2"), assets: Cut.assets)
        #expect(deleted.video.map(\.id) == ["s1", "s3"])
        #expect(deleted.video[0].transition?.duration == 1)
        let clip = TimelineClip(id: "new", asset: "b", in: 0, out: 2)
        let inserted = try deleted.applying(.insert(clip: clip, at: 1), assets: Cut.assets)
        #expect(inserted.video.map(\.id) == ["s1", "new", "s3"])
        #expect(inserted.duration == 4 + 2 + 4 - 1)
        let duplicate = #expect(throws: TimelineInvalid.self) { try deleted.applying(.insert(clip: TimelineClip(id: "s3", asset: "b", in: 0, out: 2), at: 0), assets: Cut.assets) }
        #expect(duplicate?.problems.first?.message == #"id "s3" is used twice"#)
    }

    @Test func deletingUnderAnOverlayIsRefused() {
        var timeline = Cut.timeline
        timeline.overlays[0].end = 10
        let error = #expect(throws: TimelineInvalid.self) { try timeline.applying(.delete(clip: "s3"), assets: Cut.assets) }
        #expect(error?.problems.first?.element == #"overlays[0] "title""#)
    }

    @Test func editingAClipThatIsNotThereNamesIt() {
        let error = #expect(throws: TimelineInvalid.self) { try Cut.timeline.applying(.delete(clip: "zz"), assets: Cut.assets) }
        #expect(error?.problems.first == TimelineProblem(element: "video", message: #"cannot delete clip "zz": no such clip"#))
    }

    @Test func editsDecodeFromTheEditorsJSONAndApplyInOrder() throws {
        let json = #"[{"op": "split", "clip": "s3", "at": 9, "new_id": "s4"}, {"op": "move", "clip": "s4", "to": 0}, {"op": "trim", "clip": "s1", "out": 3.5}]"#
        let edits = try JSONDecoder().decode([TimelineEdit].self, from: Data(json.utf8))
        #expect(edits[0] == .split(clip: "s3", at: 9, newID: "s4"))
        let edited = try Cut.timeline.applying(edits, assets: Cut.assets)
        #expect(edited.video.map(\.id) == ["s4", "s1", "s2", "s3"])
        #expect(edited.video[1].outPoint == 3.5)
        let failing = [TimelineEdit.delete(clip: "s1"), .delete(clip: "s1")]
        let error = #expect(throws: TimelineInvalid.self) { try Cut.timeline.applying(failing, assets: Cut.assets) }
        #expect(error?.problems.first?.element == "edits[1]: video")
    }
}
