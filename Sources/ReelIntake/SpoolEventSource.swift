import Foundation
import Glibc
import Logging
import Synchronization

/// Watches `new/` with inotify on a dedicated thread and turns what it sees into queued work
/// (`SpoolWorkQueue`) plus a wake-up on `wakeups`.
///
/// Why a thread and not a task: the thread blocks in `poll()` on the inotify descriptor and an
/// eventfd (the stop signal), with the time to the next periodic rescan as timeout. Blocking a
/// thread of Swift's small cooperative pool would starve every other task; a thread of its own
/// costs nothing while it sleeps, and an idle spool uses no CPU.
final class SpoolEventSource: Sendable {
    private enum Phase: Sendable {
        case created, running, stopping, closed
    }

    private struct State: Sendable {
        var work = SpoolWorkQueue()
        var phase = Phase.created
        var failure: SpoolIOError?
        var closedWaiter: CheckedContinuation<Void, Never>?
    }

    private static let watchMask = UInt32(IN_MOVED_TO) | UInt32(IN_CLOSE_WRITE) | UInt32(IN_ONLYDIR)
    private static let watchGoneMask = UInt32(IN_IGNORED) | UInt32(IN_DELETE_SELF) | UInt32(IN_MOVE_SELF) | UInt32(IN_UNMOUNT)

    private let inotifyFD: Int32
    /// The wake pipe: `stop()` writes to `wakeWriteFD`, the thread polls `wakeFD`.
    /// (A pipe, because Glibc's Swift module does not export `eventfd`.)
    private let wakeFD: Int32
    private let wakeWriteFD: Int32
    private let path: String
    private let rescanInterval: Duration
    /// Wake the consumer at least this often even when nothing arrives, so that its heartbeat
    /// shows it alive (`SpoolWatcher`); nil: only when there is work.
    private let tick: Duration?
    private let logger: Logger
    private let state = Mutex(State())
    private let continuation: AsyncStream<Void>.Continuation

    /// One element whenever work was queued; at most one is buffered, since `takeWork()` takes everything.
    let wakeups: AsyncStream<Void>

    /// Sets up the watch; nothing is read until `start()`. A full rescan is queued first, so
    /// files that arrived before the watch existed are handled too.
    init(watching directory: SpoolDirectory, rescanInterval: Duration, tick: Duration? = nil, logger: Logger) throws(SpoolIOError) {
        let path = directory.path
        let inotifyFD = try SpoolIOError.check("inotify_init1", path) { inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK)) }
        var pipeFDs: [Int32] = [-1, -1]
        do {
            try SpoolIOError.check("inotify_add_watch", path) { inotify_add_watch(inotifyFD, path, Self.watchMask) }
            try SpoolIOError.check("pipe", path) { pipe(&pipeFDs) }
        } catch {
            close(inotifyFD)
            throw error
        }
        for fd in pipeFDs { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        self.inotifyFD = inotifyFD
        self.wakeFD = pipeFDs[0]
        self.wakeWriteFD = pipeFDs[1]
        self.path = path
        self.rescanInterval = rescanInterval
        self.tick = tick
        self.logger = logger
        (wakeups, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        state.withLock { $0.work.requestRescan() }
        continuation.yield(())
    }

    deinit {
        // Only reached if the thread never ran (it holds a reference while it runs).
        state.withLock { state in
            if state.phase != .closed { closeDescriptors() }
        }
    }

    /// Why the watch ended on its own (the directory went away, a read failed); nil after `stop()`.
    var failure: SpoolIOError? { state.withLock { $0.failure } }

    /// Everything queued since the last call.
    func takeWork() -> SpoolWorkQueue.Work? {
        state.withLock { $0.work.take() }
    }

    /// Starts the watching thread.
    func start() {
        let started = state.withLock { state in
            guard state.phase == .created else { return false }
            state.phase = .running
            return true
        }
        guard started else { return }
        let thread = Thread { self.watch() }
        thread.name = "reeld-spool-inotify"
        thread.start()
    }

    /// Asks the thread to stop; returns at once. Safe to call more than once, from anywhere.
    func stop() {
        let closeNow = state.withLock { state -> Bool in
            switch state.phase {
            case .created:
                state.phase = .closed
                closeDescriptors()
                return true
            case .running:
                // Written under the lock: the thread closes the pipe under the same lock, so it is still ours.
                // One byte in an empty pipe never blocks.
                var one: UInt8 = 1
                _ = write(wakeWriteFD, &one, 1)
                state.phase = .stopping
                return false
            case .stopping, .closed:
                return false
            }
        }
        if closeNow { continuation.finish() }
    }

    /// Returns once the thread has ended and both descriptors are closed. Not cancellable, so
    /// that `run()` never returns with the thread still holding descriptors; `stop()` first.
    func waitUntilClosed() async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let closed = state.withLock { state -> Bool in
                if state.phase == .closed { return true }
                state.closedWaiter = waiter
                return false
            }
            if closed { waiter.resume() }
        }
    }

    // MARK: - The thread

    private func watch() {
        let clock = ContinuousClock()
        var nextRescan = clock.now.advanced(by: rescanInterval)
        var nextTick = tick.map { clock.now.advanced(by: $0) }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var failure: SpoolIOError?

        watching: while true {
            var fds = [
                pollfd(fd: inotifyFD, events: Int16(POLLIN), revents: 0),
                pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0),
            ]
            let wakeAt = nextTick.map { min($0, nextRescan) } ?? nextRescan
            let ready = poll(&fds, nfds_t(fds.count), Self.milliseconds(until: wakeAt, clock: clock))
            if ready == -1 {
                if errno == EINTR { continue }
                failure = SpoolIOError(operation: "poll", path: path, code: errno)
                break
            }
            if fds[1].revents != 0 { break }

            var names: [[UInt8]] = []
            var rescan = false
            var watchGone = false
            if fds[0].revents != 0 {
                while true {
                    let count = buffer.withUnsafeMutableBytes { read(inotifyFD, $0.baseAddress!, $0.count) }
                    if count == -1 {
                        if errno == EINTR { continue }
                        if errno == EAGAIN { break }
                        failure = SpoolIOError(operation: "read inotify", path: path, code: errno)
                        break watching
                    }
                    if count == 0 { break }
                    Self.parse(buffer[..<count]) { mask, name in
                        if mask & UInt32(IN_Q_OVERFLOW) != 0 {
                            rescan = true
                        } else if mask & Self.watchGoneMask != 0 {
                            watchGone = true
                        } else if !name.isEmpty {
                            names.append(name)
                        }
                    }
                }
            }
            if clock.now >= nextRescan {
                rescan = true
                nextRescan = clock.now.advanced(by: rescanInterval)
            }
            var ticked = false
            if let due = nextTick, let tick, clock.now >= due {
                ticked = true
                nextTick = clock.now.advanced(by: tick)
            }
            if rescan || !names.isEmpty {
                state.withLock { state in
                    if rescan { state.work.requestRescan() }
                    for name in names { state.work.fileArrived(name) }
                }
                continuation.yield(())
            } else if ticked {
                // No work: a wake-up all the same, for the consumer to show it is not stuck.
                continuation.yield(())
            }
            if watchGone {
                failure = SpoolIOError(operation: "watch", path: path, code: ENOENT)
                break
            }
        }

        let waiter = state.withLock { state in
            closeDescriptors()
            state.phase = .closed
            state.failure = failure
            defer { state.closedWaiter = nil }
            return state.closedWaiter
        }
        if let failure { logger.error("Spool watch ended", metadata: ["error": "\(failure)"]) }
        continuation.finish()
        waiter?.resume()
    }

    private func closeDescriptors() {
        close(inotifyFD)
        close(wakeFD)
        close(wakeWriteFD)
    }

    /// Calls `body` with each event's mask and name (empty for events on the directory itself).
    private static func parse(_ bytes: ArraySlice<UInt8>, _ body: (UInt32, [UInt8]) -> Void) {
        // struct inotify_event { int wd; uint32_t mask, cookie, len; char name[len]; }
        let header = 16
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset + header <= raw.count {
                let mask = raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
                let length = Int(raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
                let end = min(offset + header + length, raw.count)
                let name = Array(raw[(offset + header)..<end].prefix { $0 != 0 })
                body(mask, name)
                offset = end
            }
        }
    }

    private static func milliseconds(until deadline: ContinuousClock.Instant, clock: ContinuousClock) -> Int32 {
        let remaining = clock.now.duration(to: deadline)
        if remaining <= .zero { return 0 }
        let (seconds, attoseconds) = remaining.components
        let ms = seconds.multipliedReportingOverflow(by: 1000)
        if ms.overflow { return Int32.max }
        let total = ms.partialValue.addingReportingOverflow(attoseconds / 1_000_000_000_000_000 + 1)
        return total.overflow ? Int32.max : Int32(clamping: total.partialValue)
    }
}
