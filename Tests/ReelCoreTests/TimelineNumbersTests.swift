import Foundation
import ReelCore
import Testing

/// No number a timeline holds can trap the process: frames are counted before validation, and
/// validation refuses what is not a usable time, naming where it is.
@Suite struct TimelineNumbersTests {
    @Test(arguments: [Double.nan, .infinity, -.infinity, 9.3e18, 1e300])
    func aTimeThatIsNotUsableIsRefusedNamingItsElementWithoutTrapping(_ value: Double) {
        var timeline = Cut.timeline
        timeline.video[1].outPoint = value
        timeline.audio.voice[0].at = value
        // Counting frames is what trapped: it must give some layout, whatever the input.
        let layout = timeline.layout
        #expect(layout.clipFrames.count == 3)
        let problems = timeline.problems(assets: Cut.assets)
        #expect(problems.contains { $0.element == "video[1].out" }, "\(problems)")
        #expect(problems.contains { $0.element == "audio.voice[0].at" }, "\(problems)")
    }

    @Test func aTransitionOrFrameRateThatIsNotANumberIsRefused() {
        var timeline = Cut.timeline
        timeline.video[0].transition?.duration = .nan
        timeline.output.fps = .infinity
        _ = timeline.layout
        let elements = timeline.problems(assets: Cut.assets).map(\.element)
        #expect(elements.contains("video[0].transition.duration"))
        #expect(elements.contains("output.fps"))
    }
}
