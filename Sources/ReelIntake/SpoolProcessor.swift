import Foundation
import Glibc
import Logging
import ReelCore

/// Takes files from the spool's `new/` directory one at a time: checks, reads, decodes,
/// submits, and moves each to `accepted/` or `rejected/` (see `SpoolFileLifecycle` for the
/// steps and why a crash at any point neither loses nor duplicates a job).
///
/// `SpoolWatcher` drives it from inotify events; tests and `reeld` one-shot commands may call it directly.
public struct SpoolProcessor: Sendable {
    let layout: SpoolLayout
    let configuration: SpoolConfiguration
    let submitter: any JobSubmitting
    let logger: Logger
    let now: @Sendable () -> Date
    let checkpoint: @Sendable (SpoolCheckpoint) -> Void

    /// Opens the spool at `configuration.root`, creating `tmp/ new/ accepted/ rejected/` if missing.
    /// - Parameter checkpoint: told each `SpoolCheckpoint` as it is passed, on the processing
    ///   task; the crash tests stop the process there. It must return promptly.
    /// - Throws: `SpoolIOError` when a directory cannot be created or opened.
    public init(
        configuration: SpoolConfiguration, submitter: any JobSubmitting, logger: Logger,
        now: @escaping @Sendable () -> Date = { Date() },
        checkpoint: @escaping @Sendable (SpoolCheckpoint) -> Void = { _ in }
    ) throws {
        self.layout = try SpoolLayout(configuration)
        self.configuration = configuration
        self.submitter = submitter
        self.logger = logger
        self.now = now
        self.checkpoint = checkpoint
    }

    /// Handles every file now in `new/`, in name order. Stops early when cancelled, or when the
    /// submitter fails transiently (the queue is likely down; the rest waits for the next scan).
    @discardableResult
    public func scan() async -> [SpoolOutcome] {
        let names: [[UInt8]]
        do {
            names = try layout.new.entryNames()
        } catch {
            logger.error("Spool scan failed", metadata: ["error": "\(error)"])
            return []
        }
        var outcomes: [SpoolOutcome] = []
        for name in names {
            if Task.isCancelled { break }
            let (outcome, queueFailed) = await process(name: name)
            outcomes.append(outcome)
            if queueFailed {
                logger.warning("Spool scan paused until the next scan: submit failed", metadata: ["spool.remaining": "\(names.count - outcomes.count)"])
                break
            }
        }
        return outcomes
    }

    /// Handles the one file `name` in `new/`. A name with `/`, a leading `.`, or control
    /// characters is refused (`.ignored`) without touching anything.
    public func process(fileNamed name: String) async -> SpoolOutcome {
        await process(name: Array(name.utf8)).outcome
    }

    /// - Returns: the outcome, and whether the submitter failed transiently.
    func process(name bytes: [UInt8]) async -> (outcome: SpoolOutcome, queueFailed: Bool) {
        var logger = self.logger
        logger[metadataKey: "spool.file"] = "\(SpoolFileName.display(bytes))"
        let service = geteuid()
        var machine = SpoolFileLifecycle(
            name: bytes,
            limits: .init(
                maxFileBytes: configuration.maxFileBytes, submitters: configuration.submitters.trusting([0, service]),
                serviceUID: service))
        var action = machine.start()
        var openFile: SpoolOpenFile?
        var queueFailed = false

        while true {
            switch action {
            case .inspect(let name):
                action = inspect(name, machine: &machine, openFile: &openFile)
                if !action.isFinish { checkpoint(.inspected) }

            case .read(_, let limit):
                // `.read` only ever follows an `inspected` of a file this function opened.
                guard let file = openFile else { preconditionFailure("read without an open file") }
                do {
                    action = machine.read(try file.read(limit: limit))
                } catch {
                    action = machine.failed(error.description + "; will retry on the next scan")
                }
                openFile = nil
                if !action.isFinish { checkpoint(.read) }

            case .submit(let job):
                logger.debug("Submitting spool job", metadata: ["job.kind": "\(job.kind)", "job.idempotency_key": "\(job.idempotencyKey ?? "")"])
                do {
                    action = machine.submitted(try await submitter.submit(job))
                    checkpoint(.submitted)
                } catch let rejection as SubmitRejection {
                    action = machine.submitRejected(rejection)
                } catch {
                    queueFailed = true
                    action = machine.failed("submit failed, will retry on the next scan: \(error)")
                }

            case .moveToAccepted(let name, let facts):
                action = step(&machine) { () throws(SpoolIOError) in try moveToAccepted(name, facts) }

            case .moveToRejected(let name, let problems, let facts):
                action = step(&machine) { () throws(SpoolIOError) in try moveToRejected(name, problems, facts) }

            case .finish(let outcome):
                log(outcome, logger: logger)
                return (outcome, queueFailed)
            }
        }
    }

    // MARK: - Steps

    private func inspect(
        _ name: SpoolFileName, machine: inout SpoolFileLifecycle, openFile: inout SpoolOpenFile?
    ) -> SpoolFileLifecycle.Action {
        do {
            // A look without following links first, so a device or FIFO is never even opened.
            let linkFacts = try layout.new.facts(of: name.value)
            if linkFacts.type != .regular { return machine.inspected(linkFacts) }
            let file: SpoolOpenFile
            do {
                file = try layout.new.openForReading(name.value)
            } catch where error.isSymlink {
                // Replaced by a symlink since the look above.
                return machine.inspected(.init(type: .symlink, size: 0, ownerUID: linkFacts.ownerUID))
            } catch where error.isPermissionDenied {
                // Not readable by reeld: no later scan will change that.
                return machine.unreadable(linkFacts)
            }
            // Decide on the open file itself: what is read is what was checked.
            var facts = try file.facts()
            if facts.linkCount > 1, try isCrashedMove(name, facts.identity) { facts.linkCount -= 1 }
            openFile = file
            return machine.inspected(facts)
        } catch where error.isNotFound {
            return machine.vanished()
        } catch {
            return machine.failed(error.description + "; will retry on the next scan")
        }
    }

    /// Whether the second name of the file `name` is reeld's own, left in `accepted/` or
    /// `rejected/` by a move a crash interrupted: under the first free name the move would have
    /// taken, the same inode.
    private func isCrashedMove(_ name: SpoolFileName, _ identity: SpoolFileLifecycle.Facts.Identity) throws(SpoolIOError) -> Bool {
        for destination in [layout.accepted, layout.rejected] {
            for candidate in SpoolLayout.candidates(for: name.value) {
                guard try destination.exists(candidate) else { break }
                if try destination.facts(of: candidate).identity == identity { return true }
            }
        }
        return false
    }

    private func step(
        _ machine: inout SpoolFileLifecycle, _ move: () throws(SpoolIOError) -> String?
    ) -> SpoolFileLifecycle.Action {
        do {
            guard let storedAs = try move() else { return machine.replaced() }
            checkpoint(.moved)
            return machine.moved(storedAs: storedAs)
        } catch where error.isNotFound {
            return machine.vanished()
        } catch {
            return machine.failed(error.description + "; will retry on the next scan")
        }
    }

    /// - Returns: the name in `accepted/`, or nil if `name` is no longer the file read.
    private func moveToAccepted(_ name: SpoolFileName, _ facts: SpoolFileLifecycle.Facts) throws(SpoolIOError) -> String? {
        for candidate in SpoolLayout.candidates(for: name.value) {
            switch try layout.new.move(name.value, to: layout.accepted, as: candidate, expecting: facts.identity, afterLink: { checkpoint(.linked) }) {
            case .moved: return candidate
            case .replaced: return nil
            case .taken: continue
            }
        }
        throw SpoolIOError.noFreeName(in: layout.accepted.path + "/" + name.value)
    }

    /// The reason is written (durably) before the file is moved, so a rejected file is never
    /// without its `.error.json`; a reason whose file never arrived is rewritten, not left behind.
    /// - Returns: the name in `rejected/`, or nil if `name` is no longer the file judged.
    private func moveToRejected(
        _ name: SpoolFileName, _ problems: [IntakeProblem], _ facts: SpoolFileLifecycle.Facts
    ) throws(SpoolIOError) -> String? {
        let rejected = layout.rejected
        let report = RejectionReport(file: name.value, rejectedAt: now(), errors: problems).jsonBytes
        for candidate in SpoolLayout.candidates(for: name.value) {
            let reason = candidate + ".error.json"
            if try rejected.exists(candidate) {
                // Taken, unless it is this very file from a move a crash interrupted (then its reason is there).
                if try rejected.exists(reason) {
                    switch try layout.new.move(name.value, to: rejected, as: candidate, expecting: facts.identity, afterLink: { checkpoint(.linked) }) {
                    case .moved: return candidate
                    case .replaced: return nil
                    case .taken: break
                    }
                }
                continue
            }
            if try rejected.exists(reason) {
                // A reason without its file: a crash came between writing it and the move. Only
                // reeld writes rejected/, and that file is the one still in new/ under this name,
                // so the reason is replaced; skipping to the next name would orphan it.
                try rejected.unlink(reason)
            }
            guard try rejected.writeDurably(report, as: reason, via: layout.tmp, readableBy: facts.ownerUID) else { continue }
            checkpoint(.reasonWritten)
            switch try layout.new.move(name.value, to: rejected, as: candidate, expecting: facts.identity, afterLink: { checkpoint(.linked) }) {
            case .moved:
                return candidate
            case .replaced:
                // The reason is about a file that is no longer there.
                try? rejected.unlink(reason)
                return nil
            case .taken:
                try? rejected.unlink(reason)
            }
        }
        throw SpoolIOError.noFreeName(in: rejected.path + "/" + name.value)
    }

    private func log(_ outcome: SpoolOutcome, logger: Logger) {
        switch outcome {
        case .accepted(_, let receipt, let storedAs):
            logger.info(
                "Spool file accepted",
                metadata: ["job.id": "\(receipt.jobID)", "job.created": "\(receipt.created)", "spool.stored_as": "\(storedAs)"])
        case .rejected(_, let problems, let storedAs):
            logger.warning(
                "Spool file rejected",
                metadata: [
                    "spool.stored_as": "\(storedAs)", "spool.problems": "\(problems.count)",
                    "spool.problem": "\(problems.first?.message ?? "")",
                ])
        case .deferred(_, let reason):
            logger.warning("Spool file left in new/ for the next scan", metadata: ["spool.reason": "\(reason)"])
        case .ignored(let file, let reason):
            if file.hasPrefix(".") {
                logger.debug("Spool file ignored", metadata: ["spool.reason": "\(reason)"])
            } else {
                logger.warning("Spool file ignored", metadata: ["spool.reason": "\(reason)"])
            }
        case .vanished:
            logger.debug("Spool file gone before it was handled")
        }
    }
}
