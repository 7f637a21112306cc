import Foundation
import Synchronization

/// How a caller steers a running render from another thread: cancel it, and hear its progress.
///
/// Shared between the thread doing the blocking libav work and the task that waits for it:
/// the flag is an atomic and the callback is `@Sendable`, so both sides may touch it at once.
public final class RenderControl: Sendable {
    private let cancelled = Atomic<Bool>(false)
    private let lastReport = Mutex<(time: ContinuousClock.Instant, fraction: Double)?>(nil)
    private let onProgress: @Sendable (Double) -> Void
    /// Shortest time between two progress reports.
    private let interval: Duration
    /// A stage's control shares its parent's cancel.
    private let parent: RenderControl?

    /// - Parameter onProgress: called with the fraction done (0…1), at most every `interval`
    ///   while frames flow (the renderer produces many a second, so at least once a second).
    public init(interval: Duration = .milliseconds(250), onProgress: @escaping @Sendable (Double) -> Void = { _ in }) {
        self.interval = interval
        self.onProgress = onProgress
        parent = nil
    }

    private init(parent: RenderControl, onProgress: @escaping @Sendable (Double) -> Void) {
        self.parent = parent
        interval = .zero
        self.onProgress = onProgress
    }

    /// A control for one stage of a longer job: its progress fills `from…to` of this one's,
    /// and cancelling this one cancels it.
    public func stage(from: Double, to: Double) -> RenderControl {
        RenderControl(parent: self) { [self] fraction in progress(from + (to - from) * fraction) }
    }

    /// A control for work alongside this one's: cancelled with it (or on its own), reporting no progress.
    func companion() -> RenderControl { RenderControl(parent: self) { _ in } }

    /// Asks the render to stop; it throws `RenderCancelled` at its next frame and removes its partial output.
    public func cancel() { cancelled.store(true, ordering: .relaxed) }

    public var isCancelled: Bool { cancelled.load(ordering: .relaxed) || (parent?.isCancelled ?? false) }

    /// Throws `RenderCancelled` once the render was cancelled: long jobs call it between their stages.
    public func checkCancelled() throws(RenderCancelled) {
        if isCancelled { throw RenderCancelled() }
    }

    /// The fraction last reported (0 before any).
    var lastFraction: Double { lastReport.withLock { $0?.fraction ?? 0 } }

    /// Reports `fraction` if the last report is older than the interval (or `force`).
    public func progress(_ fraction: Double, force: Bool = false) {
        let now = ContinuousClock.now
        let due = lastReport.withLock { last -> Bool in
            if !force, let last, now - last.time < interval { return false }
            last = (now, fraction)
            return true
        }
        if due { onProgress(min(max(fraction, 0), 1)) }
    }
}

/// A render stopped because its `RenderControl` was cancelled; nothing was left at the output path.
public struct RenderCancelled: Error, Sendable, CustomStringConvertible {
    public init() {}
    public var description: String { "render cancelled" }
}
