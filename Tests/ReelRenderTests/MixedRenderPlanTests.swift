import Foundation
import ReelBlocking
import ReelCore
import Testing

@testable import ReelRender

/// The mixed path's planning, its headers' comparison and the cache that feeds it, without rendering.
@Suite struct MixedRenderPlanTests {
    /// Three 3 s clips at 25 fps, 0.6 s fades: clips start at frames 0, 60 and 120; 195 frames.
    static let timeline = Timeline(
        video: [
            TimelineClip(id: "a", asset: "a", in: 0, out: 3, transition: Transition(duration: 0.6)),
            TimelineClip(id: "b", asset: "b", in: 0, out: 3, transition: Transition(duration: 0.6)),
            TimelineClip(id: "c", asset: "c", in: 0, out: 3),
        ],
        output: TimelineOutput(width: 320, height: 180, fps: 25))
    static let everySecond = MixedRenderPlan.Clip(copyable: true, keyframes: [0, 25, 50], frames: 75)

    @Test func transitionsAreEncodedAndCopiesStartOnKeyframes() {
        let plan = MixedRenderPlan(layout: Self.timeline.layout, overlays: [], clips: Array(repeating: Self.everySecond, count: 3), minimumCopy: 13)
        #expect(plan.pieces == [
            .copy(clip: 0, film: 0..<60, clipFrame: 0),
            // The fade covers 60..<75; clip b's next keyframe after its head is its frame 25 (film 85).
            .encode(film: 60..<85),
            .copy(clip: 1, film: 85..<120, clipFrame: 25),
            .encode(film: 120..<145),
            .copy(clip: 2, film: 145..<195, clipFrame: 25),
        ])
        #expect(plan.copiedFrames == 145 && plan.totalFrames == 195)
    }

    @Test func overlaysAndUncopyableClipsAreEncodedAndShortSpansToo() {
        var clips = Array(repeating: Self.everySecond, count: 3)
        clips[2].copyable = false
        // A title over film frames 5..<20 (widened to 4..<21): clip a's copy waits for its keyframe at 25.
        let plan = MixedRenderPlan(layout: Self.timeline.layout, overlays: [4..<21], clips: clips, minimumCopy: 40)
        // Clip a's span 25..<60 is 35 frames, under the minimum of 40; clip b's 85..<120 too.
        #expect(plan.pieces == [.encode(film: 0..<195)])
        let shorter = MixedRenderPlan(layout: Self.timeline.layout, overlays: [4..<21], clips: clips, minimumCopy: 13)
        #expect(shorter.pieces == [
            .encode(film: 0..<25), .copy(clip: 0, film: 25..<60, clipFrame: 25), .encode(film: 60..<85),
            .copy(clip: 1, film: 85..<120, clipFrame: 25), .encode(film: 120..<195),
        ])
    }

    @Test func aSourceThatEndsEarlyIsCopiedOnlyAsFarAsItGoes() {
        let cut = Timeline(video: [TimelineClip(id: "a", asset: "a", in: 0, out: 3)], output: TimelineOutput(width: 320, height: 180, fps: 25))
        let plan = MixedRenderPlan(
            layout: cut.layout, overlays: [], clips: [MixedRenderPlan.Clip(copyable: true, keyframes: [0, 25, 50], frames: 70)], minimumCopy: 1)
        #expect(plan.pieces == [.copy(clip: 0, film: 0..<70, clipFrame: 0), .encode(film: 70..<75)])
    }

    @Test func anOverlaysFramesAreThoseDrawtextEnablesItOnWidenedByOne() {
        let overlay = TextOverlay(id: "t", text: "t", start: 0.2, end: 0.8)
        #expect(MixedRenderPlan.frames(of: overlay, fps: 25) == 4..<21)
    }

    @Test func aSegmentIsTheTimelinesPartWithItsTransitionAndShiftedOverlays() {
        var timeline = Self.timeline
        timeline.overlays = [TextOverlay(id: "t", text: "t", start: 2.5, end: 2.9)]
        let render = MixedRender(timeline: timeline, media: [:], facts: [:], fonts: [:], threads: 1, control: RenderControl(), blocking: BlockingPool(maxThreads: 1))
        let segment = render.segment(60..<85, layout: timeline.layout)
        #expect(segment.video.map(\.id) == ["a", "b"])
        #expect(abs(segment.video[0].inPoint - 2.4) < 1e-9 && segment.video[0].outPoint == 3 && segment.video[0].transition?.duration == 0.6)
        #expect(segment.video[1].inPoint == 0 && abs(segment.video[1].outPoint - 1.0) < 1e-9 && segment.video[1].transition == nil)
        #expect(segment.layout.totalFrames == 25)
        #expect(abs(segment.overlays[0].start - 0.1) < 1e-9 && abs(segment.overlays[0].end - 0.5) < 1e-9)
    }

    @Test func theSegmentEncodersHeadersDoNotDependOnTheQuality() throws {
        let output = TimelineOutput(width: 320, height: 180, fps: 25)
        func headers(_ quality: Int, stitchable: Bool) throws -> [UInt8] {
            try OutputEncoders.video(
                InputNormalizer.mezzanine(for: output), quality: quality, threads: 1, path: nil, globalHeader: true,
                stitchable: stitchable, keyframeSeconds: 1, bFrames: 0
            ).extradata
        }
        #expect(try headers(18, stitchable: true) == headers(30, stitchable: true))
        // Without stitchable x264 tunes its PPS to the quality: such files would not join.
        #expect(try headers(18, stitchable: false) != headers(30, stitchable: false))
        #expect(try headers(InputNormalizer.quality, stitchable: true) == InputNormalizer.mezzanineEncoder(for: output, threads: 2, path: nil).extradata)
    }

    @Test func parameterSetsReadTheSameFromAnnexBAndAvcC() throws {
        let sps: [UInt8] = [0x67, 0x64, 0x00, 0x0d, 0xac], pps: [UInt8] = [0x68, 0xeb, 0xe3, 0xcb]
        let annexB = [0, 0, 0, 1] + sps + [0, 0, 1] + pps
        let avcC: [UInt8] = [1, 0x64, 0x00, 0x0d, 0xff, 0xe1, 0, UInt8(sps.count)] + sps + [1, 0, UInt8(pps.count)] + pps + [0xfd, 0xf8, 0xf8, 0]
        let a = try #require(H264Bitstream.ParameterSets(extradata: annexB)), b = try #require(H264Bitstream.ParameterSets(extradata: avcC))
        #expect(a == b && a.sequence == [sps] && a.picture == [pps] && b.lengthSize == 4)
        #expect(H264Bitstream.ParameterSets(extradata: []) == nil)
        let picture = annexB + [0, 0, 1, 0x65, 0x88, 0x00, 0x00, 0x03]
        let converted = picture.withUnsafeBufferPointer { H264Bitstream.lengthPrefixed($0, lengthSize: 4) }
        #expect(converted == [0, 0, 0, 5] + sps + [0, 0, 0, 4] + pps + [0, 0, 0, 5, 0x65, 0x88, 0x00, 0x00, 0x03])
    }
}
