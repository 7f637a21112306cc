import ReelCore
import Testing

/// A timeline that would ask a node for unbounded work is refused by validation, before anything
/// is opened or decoded.
@Suite struct TimelineLimitsTests {
    /// A still picture: libav gives it no length, so its clip's `out` is bounded by nothing else.
    static let still = ["still": TimelineAsset(durationSeconds: nil, hasVideo: true, hasAudio: false)]

    @Test func aStillHeldPastFourHoursIsRefused() {
        let long = Timeline(video: [TimelineClip(id: "s1", asset: "still", in: 0, out: 5 * 3600)], output: TimelineOutput(fps: 120))
        #expect(long.problems(assets: Self.still) == [
            TimelineProblem(element: "video", message: "the film lasts 18000 s, longer than the 14400 s (4 h) a render may make"),
        ])
        let fourHours = Timeline(video: [TimelineClip(id: "s1", asset: "still", in: 0, out: 4 * 3600)])
        #expect(fourHours.problems(assets: Self.still).isEmpty)
    }

    @Test func moreClipsThanTheLimitAreRefusedOnTheirCount() {
        let clips = (0...500).map { TimelineClip(id: "c\($0)", asset: "still", in: 0, out: 1) }
        let problems = Timeline(video: clips).problems(assets: Self.still)
        #expect(problems == [TimelineProblem(element: "video", message: "has 501 clips, more than the 500 a render may take")])
        #expect(Timeline(video: Array(clips.dropLast())).problems(assets: Self.still).isEmpty)
    }

    @Test func moreOverlaysOrSoundsThanTheLimitAreRefused() {
        let overlays = (0...200).map { TextOverlay(id: "t\($0)", text: "x", start: 0, end: 1) }
        let sounds = (0...500).map { AudioClip(id: "e\($0)", asset: "still", at: 0) }
        let timeline = Timeline(
            video: [TimelineClip(id: "s1", asset: "still", in: 0, out: 2)], overlays: overlays, audio: TimelineAudio(effects: sounds))
        let problems = timeline.problems(assets: Self.still)
        #expect(problems == [
            TimelineProblem(element: "overlays", message: "has 201 overlays, more than the 200 a render may take"),
            TimelineProblem(element: "audio", message: "has 501 voice lines and effects, more than the 500 a render may take"),
        ])
    }

    @Test func anOutputFrameOverDCI4KIsRefused() {
        var timeline = Timeline(video: [TimelineClip(id: "s1", asset: "still", in: 0, out: 1)])
        for (width, height) in [(3840, 2160), (4096, 2160), (1080, 1920)] {
            timeline.output.width = width
            timeline.output.height = height
            #expect(timeline.problems(assets: Self.still).isEmpty, "\(width)x\(height)")
        }
        timeline.output.width = 7680
        timeline.output.height = 4320
        #expect(timeline.problems(assets: Self.still) == [
            TimelineProblem(element: "output", message: "size 7680x4320 is more than the 8847360 pixels a frame (4096x2160) a render may make"),
        ])
    }
}
