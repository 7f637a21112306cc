import ReelCore

/// The life of one file in `new/`, as a pure state machine: the caller performs each returned
/// `Action` (stat, read, submit, move) and reports the result back as the next event.
///
/// ```
/// named ─start→ inspecting ─inspected(ok)→ reading ─read(valid)→ submitting ─submitted→ accepting ─moved→ finished(.accepted)
///   │              │                          │                    │  └─submitRejected→ rejecting ─moved→ finished(.rejected)
///   │              ├─inspected(bad)→ rejecting└─read(invalid)→ rejecting
///   │              └─vanished/failed→ finished(.vanished/.deferred)   └─submitFailed→ finished(.deferred)
///   └─(bad name)→ finished(.ignored)
/// ```
///
/// Crash safety: the file stays in `new/` until the final move, and the move is the last step.
/// A crash anywhere before it leaves the file in `new/`, so nothing is lost; the next scan
/// decodes it again to the same submission with the same idempotency key (the file's own, or
/// the hash of its unchanged bytes), and the submitter returns the existing job
/// (`created == false`) instead of queueing a second one, so nothing is submitted twice.
/// A rejection writes its `.error.json` durably before moving the file, so a rejected file is
/// never without its reason (a crash between the two leaves a reason without a file; the file,
/// still in `new/`, is rejected again under the same name and its reason rewritten).
struct SpoolFileLifecycle: Sendable {
    /// What the caller found when it looked at the file (from `fstat` of the opened file where possible).
    struct Facts: Sendable, Hashable {
        enum FileType: String, Sendable, Hashable {
            case regular = "a regular file"
            case directory = "a directory"
            case symlink = "a symbolic link"
            case fifo = "a FIFO"
            case socket = "a socket"
            case characterDevice = "a character device"
            case blockDevice = "a block device"
            case unknown = "an unknown file type"
        }

        var type: FileType
        var size: Int64
        var ownerUID: UInt32
        /// Identity, to recognise a file already linked into its destination by a crashed move.
        var device: UInt64 = 0
        var inode: UInt64 = 0
    }

    struct Limits: Sendable, Hashable {
        var maxFileBytes: Int
        /// Empty accepts any owner.
        var allowedOwnerUIDs: Set<UInt32>
    }

    enum State: Sendable, Hashable {
        case named([UInt8])
        case inspecting(SpoolFileName)
        case reading(SpoolFileName)
        case submitting(SpoolFileName)
        case accepting(SpoolFileName, SubmitReceipt)
        case rejecting(SpoolFileName, [IntakeProblem])
        case finished(SpoolOutcome)
    }

    enum Action: Sendable, Hashable {
        /// Stat the file without following links, open it `O_NOFOLLOW|O_NONBLOCK`, stat the open file.
        case inspect(SpoolFileName)
        /// Read at most `limit + 1` bytes, so a file that grew past the limit is noticed.
        case read(SpoolFileName, limit: Int)
        case submit(JobSubmission)
        case moveToAccepted(SpoolFileName)
        /// Write the reason durably, then move the file beside it.
        case moveToRejected(SpoolFileName, [IntakeProblem])
        case finish(SpoolOutcome)

        var isFinish: Bool {
            if case .finish = self { return true }
            return false
        }
    }

    private(set) var state: State
    let limits: Limits
    private let decoder = JobFileDecoder()

    init(name: [UInt8], limits: Limits) {
        self.state = .named(name)
        self.limits = limits
    }

    mutating func start() -> Action {
        guard case .named(let bytes) = state else { invalid("start") }
        switch SpoolFileName.validate(bytes) {
        case .success(let name):
            state = .inspecting(name)
            return .inspect(name)
        case .failure(let refusal):
            return finish(.ignored(file: SpoolFileName.display(bytes), reason: refusal.reason))
        }
    }

    mutating func inspected(_ facts: Facts) -> Action {
        guard case .inspecting(let name) = state else { invalid("inspected") }
        var problems: [IntakeProblem] = []
        if facts.type != .regular {
            problems.append(IntakeProblem(path: "$", expected: "a regular file", got: facts.type.rawValue))
        } else if facts.size > Int64(limits.maxFileBytes) {
            problems.append(oversized(facts.size))
        }
        if !limits.allowedOwnerUIDs.isEmpty, !limits.allowedOwnerUIDs.contains(facts.ownerUID) {
            let allowed = limits.allowedOwnerUIDs.sorted().map(String.init).joined(separator: ", ")
            problems.append(IntakeProblem(path: "$", expected: "a file owned by uid \(allowed)", got: "owner uid \(facts.ownerUID)"))
        }
        if !problems.isEmpty { return reject(name, problems) }
        state = .reading(name)
        return .read(name, limit: limits.maxFileBytes)
    }

    mutating func read(_ bytes: [UInt8]) -> Action {
        guard case .reading(let name) = state else { invalid("read") }
        if bytes.count > limits.maxFileBytes { return reject(name, [oversized(Int64(bytes.count), atLeast: true)]) }
        do {
            let job = try decoder.decode(bytes)
            state = .submitting(name)
            return .submit(job)
        } catch {
            return reject(name, error.problems)
        }
    }

    mutating func submitted(_ receipt: SubmitReceipt) -> Action {
        guard case .submitting(let name) = state else { invalid("submitted") }
        state = .accepting(name, receipt)
        return .moveToAccepted(name)
    }

    mutating func submitRejected(_ rejection: SubmitRejection) -> Action {
        guard case .submitting(let name) = state else { invalid("submitRejected") }
        return reject(name, [IntakeProblem(path: rejection.path, expected: "a job the queue accepts", got: rejection.message)])
    }

    /// The file was moved to `accepted/` or `rejected/` under `storedAs`.
    mutating func moved(storedAs: String) -> Action {
        switch state {
        case .accepting(let name, let receipt):
            return finish(.accepted(file: name.value, receipt: receipt, storedAs: storedAs))
        case .rejecting(let name, let problems):
            return finish(.rejected(file: name.value, problems: problems, storedAs: storedAs))
        default:
            invalid("moved")
        }
    }

    /// The file disappeared from `new/` before it could be handled.
    mutating func vanished() -> Action {
        finish(.vanished(file: currentName))
    }

    /// A transient failure (the queue is down, an I/O error): the file stays in `new/` for the next scan.
    /// Safe at any step, including after a successful submit: see the crash-safety note above.
    mutating func failed(_ reason: String) -> Action {
        finish(.deferred(file: currentName, reason: reason))
    }

    // MARK: - Helpers

    private var currentName: String {
        switch state {
        case .named(let bytes): SpoolFileName.display(bytes)
        case .inspecting(let n), .reading(let n), .submitting(let n), .accepting(let n, _), .rejecting(let n, _): n.value
        case .finished(let outcome): outcome.file
        }
    }

    private mutating func reject(_ name: SpoolFileName, _ problems: [IntakeProblem]) -> Action {
        state = .rejecting(name, problems)
        return .moveToRejected(name, problems)
    }

    private mutating func finish(_ outcome: SpoolOutcome) -> Action {
        state = .finished(outcome)
        return .finish(outcome)
    }

    private func oversized(_ size: Int64, atLeast: Bool = false) -> IntakeProblem {
        IntakeProblem(
            path: "$", expected: "a file of at most \(limits.maxFileBytes) bytes",
            got: atLeast ? "more than \(limits.maxFileBytes) bytes" : "\(size) bytes")
    }

    private func invalid(_ event: String) -> Never {
        preconditionFailure("SpoolFileLifecycle: event \(event) is not valid in state \(state)")
    }
}
