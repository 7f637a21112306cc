import Foundation
import Synchronization

/// Shows how far a render is. On a terminal, a bar with the percentage and the time left,
/// redrawn in place; into a file or a pipe, a plain line each time another tenth is done, so a
/// log holds a dozen lines rather than a redraw for every report.
///
/// Reports come from the render's thread while the command's task waits, hence the lock.
final class RenderProgress: Sendable {
    enum Style: Sendable {
        case bar
        case lines
    }

    private struct State {
        /// Tenths already printed (lines style).
        var tenths = -1
        var drawn = false
    }

    let style: Style
    private let started: ContinuousClock.Instant
    private let state = Mutex(State())
    private let write: @Sendable (String) -> Void

    /// - Parameter write: where the text goes (standard output; a test's buffer).
    init(style: Style, started: ContinuousClock.Instant = .now, write: @escaping @Sendable (String) -> Void) {
        self.style = style
        self.started = started
        self.write = write
    }

    /// The style for standard output: the bar only on a terminal.
    static var standardOutputStyle: Style { isatty(STDOUT_FILENO) == 1 ? .bar : .lines }

    /// Shows `fraction` (0…1) done, `now` being the time of the report.
    func report(_ fraction: Double, now: ContinuousClock.Instant = .now) {
        let fraction = min(max(fraction, 0), 1)
        let text: String? = state.withLock { state in
            switch style {
            case .bar:
                state.drawn = true
                return "\r" + Self.bar(fraction, elapsed: now - started) + "\u{1B}[K"
            case .lines:
                let tenths = Int((fraction * 10).rounded(.down))
                guard tenths > state.tenths else { return nil }
                state.tenths = tenths
                return Self.line(fraction, tenths: tenths, elapsed: now - started) + "\n"
            }
        }
        if let text { write(text) }
    }

    /// Ends the bar's line, so that what follows starts on its own.
    func finish() {
        let drawn = state.withLock { state in
            defer { state.drawn = false }
            return state.drawn
        }
        if drawn { write("\n") }
    }

    /// `[##########----------]  50%  ETA 0:07`
    static func bar(_ fraction: Double, elapsed: Duration, width: Int = 30) -> String {
        let filled = Int((fraction * Double(width)).rounded(.down))
        let percent = Int((fraction * 100).rounded(.down))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        return "[\(bar)] \(String(percent).leftPadded(to: 3))%  " + eta(fraction, elapsed: elapsed)
    }

    /// `render  40%  ETA 0:03`
    static func line(_ fraction: Double, tenths: Int, elapsed: Duration) -> String {
        "render \(String(tenths * 10).leftPadded(to: 3))%  " + (tenths == 10 ? "in \(clock(elapsed))" : eta(fraction, elapsed: elapsed))
    }

    /// The time left if the rest goes as fast as what is done; "ETA --:--" until that means anything.
    static func eta(_ fraction: Double, elapsed: Duration) -> String {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        guard fraction >= 0.01, seconds >= 0.5 else { return "ETA --:--" }
        return "ETA " + clock(.seconds(seconds * (1 - fraction) / fraction))
    }

    /// `m:ss`, rounded up so that a render never shows 0:00 while it still runs.
    static func clock(_ duration: Duration) -> String {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        let whole = Int(seconds.rounded(.up))
        return "\(whole / 60):" + String(whole % 60).leftPadded(to: 2, with: "0")
    }
}

extension String {
    /// The text with `character` in front up to `width` characters.
    fileprivate func leftPadded(to width: Int, with character: Character = " ") -> String {
        count >= width ? self : String(repeating: character, count: width - count) + self
    }
}
