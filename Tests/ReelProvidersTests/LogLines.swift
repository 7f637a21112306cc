import Logging
import Synchronization

/// Every log line with its metadata, so a test can see what reaches a log.
final class LogLines: Sendable {
    let lines = Mutex<[String]>([])

    var logger: Logger {
        var logger = Logger(label: "reeld.providers.test") { _ in Handler(logs: self) }
        logger.logLevel = .trace
        return logger
    }

    var all: [String] { lines.withLock { $0 } }

    struct Handler: LogHandler {
        let logs: LogLines
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
            logs.lines.withLock { $0.append("\(level) \(message) \(self.metadata.merging(metadata ?? [:]) { $1 })") }
        }
    }
}
