import Logging
import Synchronization

/// A log handler that keeps every record it is given, with the logger's metadata merged in,
/// for tests to read what a component logged and at which level.
public final class CapturedLogs: Sendable {
    public struct Record: Sendable {
        public var level: Logger.Level
        public var message: String
        public var metadata: [String: String]
    }

    private let stored = Mutex<[Record]>([])
    public let level: Logger.Level

    public init(level: Logger.Level) {
        self.level = level
    }

    public var records: [Record] { stored.withLock { $0 } }

    /// A logger writing here, at `level`.
    public func logger(label: String = "test") -> Logger {
        Logger(label: label) { _ in Handler(sink: self, logLevel: self.level) }
    }

    fileprivate func append(_ record: Record) {
        stored.withLock { $0.append(record) }
    }

    private struct Handler: LogHandler {
        let sink: CapturedLogs
        var logLevel: Logger.Level
        var metadata: Logger.Metadata = [:]

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            sink.append(Record(level: event.level, message: "\(event.message)", metadata: merged.mapValues { "\($0)" }))
        }
    }
}
