import Foundation
import Glibc
import Logging

/// A swift-log handler writing one logfmt line per entry to stderr, for when journald is not
/// reading it (a terminal, a container): `ts=… level=info msg="job claimed" job_id=… token=<redacted>`.
public struct StderrLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    public let label: String
    public let redaction: LogRedaction
    private var level: HandlerLevel

    public var logLevel: Logger.Level {
        get { level.level }
        set { level.level = newValue }
    }

    public init(
        label: String,
        level: LogLevelSwitch,
        metadataProvider: Logger.MetadataProvider? = nil,
        redaction: LogRedaction = .default
    ) {
        self.label = label
        self.level = HandlerLevel(level)
        self.metadataProvider = metadataProvider
        self.redaction = redaction
    }

    /// A handler with a fixed level of its own.
    public init(
        label: String,
        logLevel: Logger.Level = .info,
        metadataProvider: Logger.MetadataProvider? = nil,
        redaction: LogRedaction = .default
    ) {
        self.init(label: label, level: LogLevelSwitch(logLevel), metadataProvider: metadataProvider, redaction: redaction)
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let explicit = event.metadata { merged.merge(explicit) { $1 } }
        let line = Self.format(
            timestamp: Date(), level: event.level, message: event.message.description, metadata: merged,
            error: event.error, redaction: redaction
        )
        // One write(2) per line: lines from concurrent tasks do not interleave.
        var bytes = Array((line + "\n").utf8)
        bytes.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = write(STDERR_FILENO, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0, errno == EINTR { continue }
                if n <= 0 { return }
                offset += n
            }
        }
    }

    /// One logfmt line, metadata keys sorted so equal entries print equally.
    static func format(
        timestamp: Date?, level: Logger.Level, message: String, metadata: Logger.Metadata, error: (any Error)?,
        redaction: LogRedaction
    ) -> String {
        var parts: [String] = []
        if let timestamp {
            parts.append("ts=" + timestamp.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true)))
        }
        parts.append("level=" + level.rawValue)
        parts.append("msg=" + quote(message))
        if let error { parts.append("error=" + quote("\(error)")) }
        for (key, value) in redaction.redact(metadata).sorted(by: { $0.key < $1.key }) {
            parts.append(logfmtKey(key) + "=" + quote(value.description))
        }
        return parts.joined(separator: " ")
    }

    /// logfmt keys cannot hold spaces, `=` or quotes; those become `_`.
    static func logfmtKey(_ key: String) -> String {
        let cleaned = String(key.map { $0.isWhitespace || $0 == "=" || $0 == "\"" || $0.isNewline ? "_" : $0 })
        return cleaned.isEmpty ? "_" : cleaned
    }

    /// Quotes a value when it is empty or holds spaces, `=`, quotes or control characters.
    static func quote(_ value: String) -> String {
        let needsQuotes = value.isEmpty || value.unicodeScalars.contains {
            $0 == " " || $0 == "=" || $0 == "\"" || $0 == "\\" || $0.value < 0x20 || $0.value == 0x7F
        }
        guard needsQuotes else { return value }
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                    + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
