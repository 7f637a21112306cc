import CSystemd
import Glibc
import Logging

/// A swift-log handler that writes structured entries to journald with `sd_journal_sendv`.
///
/// Each metadata key becomes its own journal field (`job_id` → `JOB_ID`), so
/// `journalctl JOB_ID=…` tells one job's story. Secrets are redacted before they leave the process.
/// If journald cannot be reached the entry goes to stderr as a logfmt line rather than being lost.
public struct JournalLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    /// The swift-log label, sent as `LOGGER`.
    public let label: String
    /// `SYSLOG_IDENTIFIER`, what `journalctl -t` filters on.
    public let identifier: String
    public let redaction: LogRedaction
    private var level: HandlerLevel

    public var logLevel: Logger.Level {
        get { level.level }
        set { level.level = newValue }
    }

    public init(
        label: String,
        identifier: String = "reeld",
        level: LogLevelSwitch,
        metadataProvider: Logger.MetadataProvider? = nil,
        redaction: LogRedaction = .default
    ) {
        self.label = label
        self.identifier = identifier
        self.level = HandlerLevel(level)
        self.metadataProvider = metadataProvider
        self.redaction = redaction
    }

    /// A handler with a fixed level of its own.
    public init(
        label: String,
        identifier: String = "reeld",
        logLevel: Logger.Level = .info,
        metadataProvider: Logger.MetadataProvider? = nil,
        redaction: LogRedaction = .default
    ) {
        self.init(
            label: label, identifier: identifier, level: LogLevelSwitch(logLevel), metadataProvider: metadataProvider,
            redaction: redaction)
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = mergedMetadata(event.metadata)
        let fields = Self.fields(
            level: event.level, message: event.message.description, metadata: merged, error: event.error,
            identifier: identifier, label: label, file: event.file, line: event.line, function: event.function,
            redaction: redaction
        )
        if Self.send(fields) != 0 {
            var fallback = StderrLogHandler(label: label, logLevel: logLevel, redaction: redaction)
            fallback.metadata = merged
            fallback.log(event: event)
        }
    }

    /// Handler metadata, then the provider's, then the call's: the most specific wins.
    private func mergedMetadata(_ explicit: Logger.Metadata?) -> Logger.Metadata {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let explicit { merged.merge(explicit) { $1 } }
        return merged
    }

    /// The syslog priority journald stores for a swift-log level (`PRIORITY=`, `journalctl -p`).
    public static func priority(for level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// The journal entry as `NAME=value` fields, metadata sorted by field name for stable output.
    static func fields(
        level: Logger.Level, message: String, metadata: Logger.Metadata, error: (any Error)?,
        identifier: String, label: String, file: String, line: UInt, function: String,
        redaction: LogRedaction
    ) -> [String] {
        var fields = [
            "MESSAGE=" + message,
            "PRIORITY=\(priority(for: level))",
            "SYSLOG_IDENTIFIER=" + identifier,
            "LOGGER=" + label,
            "CODE_FILE=" + file,
            "CODE_LINE=\(line)",
            "CODE_FUNC=" + function,
        ]
        if let error { fields.append("ERROR=\(error)") }
        let named = redaction.redact(metadata).map { (JournalFieldName.sanitize($0.key), $0.value) }
        for (name, value) in named.sorted(by: { $0.0 < $1.0 }) {
            fields.append(name + "=" + value.description)
        }
        return fields
    }

    /// Sends the fields as one entry; returns 0 or a negative errno. Values may hold newlines or
    /// any bytes: `sd_journal_sendv` switches to the binary-safe encoding itself.
    static func send(_ fields: [String]) -> Int32 {
        // One buffer for all fields keeps every iovec pointing at memory alive for the whole call.
        var bytes: [UInt8] = []
        var ranges: [Range<Int>] = []
        for field in fields {
            let start = bytes.count
            bytes.append(contentsOf: field.utf8)
            ranges.append(start..<bytes.count)
        }
        return bytes.withUnsafeMutableBytes { buffer in
            let base = buffer.baseAddress
            let vectors = ranges.map { range in iovec(iov_base: base.map { $0 + range.lowerBound }, iov_len: range.count) }
            return vectors.withUnsafeBufferPointer { sd_journal_sendv($0.baseAddress, Int32($0.count)) }
        }
    }
}
