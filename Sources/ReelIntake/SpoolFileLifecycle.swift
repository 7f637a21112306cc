import ReelCore

/// The life of one file in `new/`, as a pure state machine: the caller performs each returned
/// `Action` (stat, read, submit, move) and reports the result back as the next event.
///
/// ```
/// named ─start→ inspecting ─inspected(ok)→ reading ─read(valid, permitted)→ submitting ─submitted→ accepting ─moved→ finished(.accepted)
///   │              │                          │                    │  └─submitRejected→ rejecting ─moved→ finished(.rejected)
///   │              ├─inspected(bad)/unreadable→ rejecting └─read(invalid or not permitted)→ rejecting
///   │              └─vanished/failed→ finished(.vanished/.deferred)   └─submitFailed→ finished(.deferred)
///   └─(bad name)→ finished(.ignored)              accepting/rejecting ─replaced→ finished(.deferred)
/// ```
///
/// Who may submit: the file's owner (from `fstat` of the opened file) must be listed in
/// `SpoolSubmitters`, and the job may name only the users that owner may act for. A file with
/// a second name, or that others may write, is refused: its content may not be its owner's.
///
/// Identity: the file read is the file moved. The move compares the inode it moves with the
/// inode that was checked and read; a file its owner replaced meanwhile is not filed under
/// another file's outcome but handled on its own.
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

        /// Which file this is: to recognise a file already linked into its destination by a
        /// crashed move, and a file replaced under the same name since it was read.
        struct Identity: Sendable, Hashable {
            var device: UInt64
            var inode: UInt64
        }

        var type: FileType
        var size: Int64
        var ownerUID: UInt32
        var device: UInt64 = 0
        var inode: UInt64 = 0
        /// Permission bits (`st_mode & 0o7777`).
        var mode: UInt32 = 0o644
        /// Names of the file outside reeld's own `accepted/` and `rejected/` (where a crashed
        /// move may have left a second name).
        var linkCount: UInt64 = 1

        var identity: Identity { Identity(device: device, inode: inode) }
    }

    struct Limits: Sendable, Hashable {
        var maxFileBytes: Int
        /// Who may submit for whom, with root and reeld's own uid already trusted.
        var submitters: SpoolSubmitters
        /// The uid reeld reads files as, for the message of a file it may not read.
        var serviceUID: UInt32 = 0
    }

    enum State: Sendable, Hashable {
        case named([UInt8])
        case inspecting(SpoolFileName)
        case reading(SpoolFileName, Facts)
        case submitting(SpoolFileName, Facts)
        case accepting(SpoolFileName, SubmitReceipt, Facts)
        case rejecting(SpoolFileName, [IntakeProblem], Facts)
        case finished(SpoolOutcome)
    }

    enum Action: Sendable, Hashable {
        /// Stat the file without following links, open it `O_NOFOLLOW|O_NONBLOCK`, stat the open file.
        case inspect(SpoolFileName)
        /// Read at most `limit + 1` bytes, so a file that grew past the limit is noticed.
        case read(SpoolFileName, limit: Int)
        case submit(JobSubmission)
        /// Move the file, if it is still the one with `Facts.identity`.
        case moveToAccepted(SpoolFileName, Facts)
        /// Write the reason durably (readable by the file's owner), then move the file beside it,
        /// if it is still the one with `Facts.identity`.
        case moveToRejected(SpoolFileName, [IntakeProblem], Facts)
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
        if let refusal = limits.submitters.refusal(ofOwner: facts.ownerUID) { problems.append(refusal) }
        if facts.type != .regular {
            problems.append(IntakeProblem(path: "$", expected: "a regular file", got: facts.type.rawValue))
        } else {
            if facts.size > Int64(limits.maxFileBytes) { problems.append(oversized(facts.size)) }
            // A file others may write holds what anyone with that access wrote, and a second
            // name may be a link to someone else's file: either way its owner is not its author.
            if facts.mode & 0o022 != 0 {
                problems.append(IntakeProblem(
                    path: "$", expected: "a file only its owner may write", got: "mode \(Self.octal(facts.mode)) (writable by group or others)"))
            }
            if facts.linkCount > 1 {
                problems.append(IntakeProblem(
                    path: "$", expected: "a file with one name (written in tmp/, renamed into new/)",
                    got: "a file with \(facts.linkCount) hard links"))
            }
        }
        if !problems.isEmpty { return reject(name, problems, facts) }
        state = .reading(name, facts)
        return .read(name, limit: limits.maxFileBytes)
    }

    /// reeld may not open the file (its mode leaves reeld out): refused, since waiting will not
    /// change that, with what to do about it.
    mutating func unreadable(_ facts: Facts) -> Action {
        guard case .inspecting(let name) = state else { invalid("unreadable") }
        var problems: [IntakeProblem] = []
        if let refusal = limits.submitters.refusal(ofOwner: facts.ownerUID) { problems.append(refusal) }
        problems.append(IntakeProblem(
            path: "$", expected: "a file reeld (uid \(limits.serviceUID)) may read, e.g. mode 0640 with the spool's group",
            got: "permission denied (mode \(Self.octal(facts.mode)), owner uid \(facts.ownerUID))"))
        return reject(name, problems, facts)
    }

    mutating func read(_ bytes: [UInt8]) -> Action {
        guard case .reading(let name, let facts) = state else { invalid("read") }
        if bytes.count > limits.maxFileBytes { return reject(name, [oversized(Int64(bytes.count), atLeast: true)], facts) }
        let job: JobSubmission
        do {
            job = try decoder.decode(bytes)
        } catch {
            return reject(name, error.problems, facts)
        }
        if let refusal = limits.submitters.refusal(of: job, ownerUID: facts.ownerUID) { return reject(name, [refusal], facts) }
        state = .submitting(name, facts)
        return .submit(job)
    }

    mutating func submitted(_ receipt: SubmitReceipt) -> Action {
        guard case .submitting(let name, let facts) = state else { invalid("submitted") }
        state = .accepting(name, receipt, facts)
        return .moveToAccepted(name, facts)
    }

    mutating func submitRejected(_ rejection: SubmitRejection) -> Action {
        guard case .submitting(let name, let facts) = state else { invalid("submitRejected") }
        return reject(name, [IntakeProblem(path: rejection.path, expected: "a job the queue accepts", got: rejection.message)], facts)
    }

    /// The file was moved to `accepted/` or `rejected/` under `storedAs`.
    mutating func moved(storedAs: String) -> Action {
        switch state {
        case .accepting(let name, let receipt, _):
            return finish(.accepted(file: name.value, receipt: receipt, storedAs: storedAs))
        case .rejecting(let name, let problems, _):
            return finish(.rejected(file: name.value, problems: problems, storedAs: storedAs))
        default:
            invalid("moved")
        }
    }

    /// The name in `new/` holds another file than the one read (its owner replaced it): nothing
    /// was moved. The other file stays in `new/` and is handled on its own; a job submitted from
    /// what was read stays queued.
    mutating func replaced() -> Action {
        switch state {
        case .accepting(let name, let receipt, _):
            return finish(.deferred(
                file: name.value,
                reason: "replaced by another file after it was read; job \(receipt.jobID.lowercasedText) was queued from what was read, the new file is handled on its own"))
        case .rejecting(let name, _, _):
            return finish(.deferred(file: name.value, reason: "replaced by another file after it was read; the new file is handled on its own"))
        default:
            invalid("replaced")
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
        case .inspecting(let n), .reading(let n, _), .submitting(let n, _), .accepting(let n, _, _), .rejecting(let n, _, _): n.value
        case .finished(let outcome): outcome.file
        }
    }

    /// Problems listed in one reason at the most: a file of unknown arguments would otherwise
    /// get a reason many times its own size.
    static let maxReportedProblems = 100

    private mutating func reject(_ name: SpoolFileName, _ found: [IntakeProblem], _ facts: Facts) -> Action {
        var problems = found
        if problems.count > Self.maxReportedProblems {
            let more = problems.count - (Self.maxReportedProblems - 1)
            problems = Array(problems.prefix(Self.maxReportedProblems - 1)) + [IntakeProblem(
                path: "$", expected: "at most \(Self.maxReportedProblems) problems listed", got: "\(more) more",
                message: "$: \(more) more problems not listed")]
        }
        state = .rejecting(name, problems, facts)
        return .moveToRejected(name, problems, facts)
    }

    static func octal(_ mode: UInt32) -> String {
        let digits = String(mode & 0o7777, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
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
