import Foundation
@testable import ReelFileRender
import Synchronization
import Testing

@Suite struct RenderProgressTests {
    /// What a progress wrote, for reading back.
    final class Written: Sendable {
        private let text = Mutex("")
        var value: String { text.withLock { $0 } }
        func append(_ more: String) { text.withLock { $0 += more } }
    }

    @Test func linesComeOncePerTenthReachedAndNeverGoBack() {
        let written = Written()
        let start = ContinuousClock.now
        let progress = RenderProgress(style: .lines, started: start) { written.append($0) }
        for (fraction, second) in [(0.0, 0.0), (0.04, 0.2), (0.12, 1.0), (0.19, 1.5), (0.55, 4.0), (0.5, 4.1), (1.0, 8.0)] {
            progress.report(fraction, now: start + .seconds(second))
        }
        progress.finish()
        #expect(written.value == """
            render   0%  ETA --:--
            render  10%  ETA 0:08
            render  50%  ETA 0:04
            render 100%  in 0:08

            """)
    }

    @Test func theBarIsRedrawnInPlaceAndItsLineEndedOnce() {
        let written = Written()
        let start = ContinuousClock.now
        let progress = RenderProgress(style: .bar, started: start) { written.append($0) }
        progress.report(0.25, now: start + .seconds(3))
        progress.report(0.5, now: start + .seconds(6))
        progress.finish()
        progress.finish()
        let clear = "\u{1B}[K"
        #expect(written.value == "\r[#######-----------------------]  25%  ETA 0:09\(clear)"
            + "\r[###############---------------]  50%  ETA 0:06\(clear)\n")
    }

    @Test func theTimeLeftIsRoundedUpAndUnknownAtFirst() {
        #expect(RenderProgress.eta(0.005, elapsed: .seconds(10)) == "ETA --:--")
        #expect(RenderProgress.eta(0.5, elapsed: .milliseconds(300)) == "ETA --:--")
        #expect(RenderProgress.eta(0.9, elapsed: .seconds(90)) == "ETA 0:10")
        #expect(RenderProgress.eta(0.25, elapsed: .seconds(60)) == "ETA 3:00")
        #expect(RenderProgress.clock(.milliseconds(100)) == "0:01")
    }
}
