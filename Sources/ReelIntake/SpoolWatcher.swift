import Logging
import ReelCore

/// The spool intake as a long-running service: watches `new/` with inotify, scans it in full at
/// start, every `rescanInterval` and after an inotify queue overflow, and hands each file to a
/// `SpoolProcessor`, one at a time.
///
/// Files are processed sequentially: submitting is one short database call, and a single
/// consumer keeps the order of arrival and the load on the queue predictable.
public struct SpoolWatcher: Sendable {
    let configuration: SpoolConfiguration
    let submitter: any JobSubmitting
    let logger: Logger

    public init(configuration: SpoolConfiguration, submitter: any JobSubmitting, logger: Logger) {
        self.configuration = configuration
        self.submitter = submitter
        self.logger = logger
    }

    /// Processes spool files until the task is cancelled, then returns after closing its
    /// descriptors. A file being submitted when cancellation arrives is finished or left in `new/`.
    /// - Parameter onListening: called once the inotify watch is in place, so a file renamed
    ///   into `new/` from then on is seen (the node reports READY to systemd after it).
    /// - Parameter heartbeat: beaten on every pass of the loop that processes files, which then
    ///   wakes at least every `heartbeat.every` even when nothing arrives; a submit that never
    ///   returns stops the beats (the systemd watchdog's pings depend on them).
    /// - Throws: `SpoolIOError` if the spool cannot be opened or watched, or the watch ends on its
    ///   own (the directory was removed).
    public func run(onListening: (@Sendable () -> Void)? = nil, heartbeat: LoopHeartbeat? = nil) async throws {
        let processor = try SpoolProcessor(configuration: configuration, submitter: submitter, logger: logger)
        let source = try SpoolEventSource(
            watching: processor.layout.new, rescanInterval: configuration.rescanInterval, tick: heartbeat?.every, logger: logger)
        logger.info("Spool watcher started", metadata: ["spool.root": "\(configuration.root)"])
        source.start()
        onListening?()
        await withTaskCancellationHandler {
            await consume(source, with: processor, heartbeat: heartbeat)
        } onCancel: {
            source.stop()
        }
        source.stop()
        await source.waitUntilClosed()
        logger.info("Spool watcher stopped")
        if let failure = source.failure { throw failure }
    }

    private func consume(_ source: SpoolEventSource, with processor: SpoolProcessor, heartbeat: LoopHeartbeat?) async {
        heartbeat?.beat()
        for await _ in source.wakeups {
            heartbeat?.beat()
            while let work = source.takeWork() {
                if Task.isCancelled { return }
                switch work {
                case .rescan:
                    await processor.scan()
                case .files(let names):
                    for name in names {
                        if Task.isCancelled { return }
                        heartbeat?.beat()
                        // The queue is down: the rest stays in new/ until the next periodic rescan.
                        if await processor.process(name: name).queueFailed { break }
                    }
                }
            }
        }
    }
}
