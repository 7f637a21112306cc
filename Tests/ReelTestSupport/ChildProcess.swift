import Foundation
import Glibc
import Synchronization

/// A real child process for tests that crash, stop and signal reeld: started with `posix_spawn`,
/// its output in files, reaped by pid, and killed when the value goes away so that a failing
/// test never leaves one running.
///
/// Not Foundation's `Process`, for the reason `LocalCluster.run` gives: it was seen to never reap
/// its child in test processes. Output goes to files rather than pipes, so a test reads it at
/// any time (for a failure message) without a reader that must keep up.
public final class ChildProcess: Sendable {
    /// How a process ended.
    public enum Termination: Sendable, Hashable, CustomStringConvertible {
        case exited(Int32)
        case signalled(Int32)

        public var description: String {
            switch self {
            case .exited(let code): "exit status \(code)"
            case .signalled(let signal): "killed by signal \(signal) (\(String(cString: strsignal(signal))))"
            }
        }
    }

    /// What `waitpid` last reported.
    enum Status: Sendable {
        case running
        case stopped(Int32)
        case ended(Termination)
    }

    public let pid: pid_t
    /// A short name for messages ("victim", "restart 2").
    public let label: String
    public let standardOutputPath: String
    public let standardErrorPath: String
    /// Set once the process has been reaped; after that its pid may belong to someone else.
    private let ended = Mutex<Termination?>(nil)

    /// Starts `executable` with `arguments`, the test process's environment plus `environment`,
    /// stdin from `/dev/null` and stdout/stderr into `label.out`/`label.err` in `outputDirectory`.
    ///
    /// The child gets default signal dispositions, an empty signal mask, its own process group
    /// and none of the test process's descriptors: whatever the test runner ignores, blocks or
    /// holds open must not change how the child behaves or keep another test's pipe alive.
    ///
    /// - Parameter niceness: lowers the child's CPU priority (inherited by what it starts), for heavy work
    ///   with no timing of its own to meet, so that it does not starve the tests that time things.
    public init(
        executable: URL, arguments: [String], environment: [String: String] = [:], outputDirectory: URL, label: String,
        niceness: Int32 = 0
    ) throws {
        self.label = label
        let safeLabel = label.map { $0.isLetter || $0.isNumber ? $0 : "-" }
        standardOutputPath = outputDirectory.appendingPathComponent(String(safeLabel) + ".out").path
        standardErrorPath = outputDirectory.appendingPathComponent(String(safeLabel) + ".err").path

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, standardOutputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, standardErrorPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        Self.closeInheritedDescriptors(&actions)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP))

        var merged = ProcessInfo.processInfo.environment
        merged.merge(environment) { $1 }
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable.path] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable.path, &actions, &attributes, argv, envp)
        guard spawned == 0 else {
            throw Failure("cannot start \(label) (\(executable.path)): \(String(cString: strerror(spawned)))")
        }
        self.pid = pid
        if niceness > 0 {
            // Right after the start rather than in the child: posix_spawn has no such attribute.
            // Raising niceness needs no privilege; the first instants run at normal priority.
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(pid), niceness)
        }
    }

    deinit { killAndReap() }

    /// Sends `signal` unless the process has already been reaped (its pid may be reused by then).
    public func send(_ signal: Int32) {
        ended.withLock { termination in
            if termination == nil { _ = kill(pid, signal) }
        }
    }

    /// Sends `signal` `delay` after `condition` first holds, watching from a thread of its own:
    /// on a loaded machine the test's task pool can be busy for a second or more, far too late
    /// for a moment measured in milliseconds. Returns false, having sent nothing, if `condition`
    /// did not hold within `timeout`.
    public func send(
        _ signal: Int32, after delay: Duration, once condition: @escaping @Sendable () -> Bool, timeout: Duration
    ) async -> Bool {
        await withCheckedContinuation { continuation in
            let thread = Thread { [self] in
                let deadline = ContinuousClock.now + timeout
                while !condition() {
                    guard ContinuousClock.now < deadline else { return continuation.resume(returning: false) }
                    usleep(500)
                }
                let (seconds, attoseconds) = delay.components
                usleep(UInt32(seconds * 1_000_000 + attoseconds / 1_000_000_000_000))
                send(signal)
                continuation.resume(returning: true)
            }
            thread.name = "reeld-test-signal"
            thread.start()
        }
    }

    /// How the process ended, or nil while it runs. Reaps it if it has just ended.
    public var termination: Termination? {
        if case .ended(let termination) = poll(reportingStops: false) { return termination }
        return nil
    }

    /// Waits until the process ends, polling so that no thread blocks in `waitpid`.
    /// - Throws: `Failure` with the tail of its stderr if it is still running after `timeout`.
    @discardableResult
    public func waitForExit(timeout: Duration) async throws -> Termination {
        let deadline = ContinuousClock.now + timeout
        while true {
            if case .ended(let termination) = poll(reportingStops: false) { return termination }
            guard ContinuousClock.now < deadline else {
                throw Failure("\(label) (pid \(pid)) still running after \(timeout)\n\(stderrTail())")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Waits until the process stops itself (`raise(SIGSTOP)`); returns the stop signal.
    /// - Throws: `Failure` if it ends instead, or is still running after `timeout`.
    @discardableResult
    public func waitForStop(timeout: Duration) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while true {
            switch poll(reportingStops: true) {
            case .stopped(let signal): return signal
            case .ended(let termination):
                throw Failure("\(label) ended (\(termination)) instead of stopping\n\(stderrTail())")
            case .running:
                guard ContinuousClock.now < deadline else {
                    throw Failure("\(label) (pid \(pid)) did not stop within \(timeout)\n\(stderrTail())")
                }
                try await Task.sleep(for: .milliseconds(10))
            }
        }
    }

    /// SIGKILLs the process if it still runs and reaps it. Safe to call more than once.
    public func killAndReap() {
        ended.withLock { termination in
            guard termination == nil else { return }
            _ = kill(pid, SIGKILL)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            termination = Self.termination(status) ?? .signalled(SIGKILL)
        }
    }

    public var standardOutput: String { (try? String(contentsOfFile: standardOutputPath, encoding: .utf8)) ?? "" }
    public var standardError: String { (try? String(contentsOfFile: standardErrorPath, encoding: .utf8)) ?? "" }

    /// The last lines of stderr, for failure messages.
    public func stderrTail(lines: Int = 30) -> String {
        let tail = standardError.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines)
        return "--- \(label) stderr (last \(tail.count) lines) ---\n" + tail.joined(separator: "\n")
    }

    private func poll(reportingStops: Bool) -> Status {
        ended.withLock { termination in
            if let termination { return .ended(termination) }
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG | (reportingStops ? WUNTRACED : 0))
            if result == 0 || (result < 0 && errno == EINTR) { return .running }
            if result < 0 {
                // ECHILD: someone else reaped it; nothing more can be learned.
                termination = .signalled(0)
                return .ended(.signalled(0))
            }
            if status & 0xff == 0x7f { return .stopped((status >> 8) & 0xff) }
            guard let ended = Self.termination(status) else { return .running }
            termination = ended
            return .ended(ended)
        }
    }

    /// Adds actions that close every descriptor above stderr in the child. glibc's
    /// `posix_spawn_file_actions_addclosefrom_np` does it atomically but Swift's Glibc module does
    /// not declare it (it is a GNU extension), so it is looked up at run time; without it, the
    /// descriptors open now are closed one by one (glibc ignores those closed meanwhile).
    static func closeInheritedDescriptors(_ actions: inout posix_spawn_file_actions_t) {
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") {
            if unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3) == 0 { return }
        }
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for fd in open.compactMap(Int32.init) where fd > 2 {
            posix_spawn_file_actions_addclose(&actions, fd)
        }
    }

    /// Decodes a `waitpid` status (the `WIFEXITED` family are macros Swift cannot import).
    static func termination(_ status: Int32) -> Termination? {
        if status & 0x7f == 0 { return .exited((status >> 8) & 0xff) }
        if status & 0xff != 0x7f { return .signalled(status & 0x7f) }
        return nil
    }

    /// A child process that could not be started, or did not do what the test waited for.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }
}
