import Glibc
import Logging

/// Where log entries go: journald's native protocol, or logfmt lines on stderr.
public enum LoggingBackend: String, Sendable, Hashable, CaseIterable {
    case journald
    case stderr

    /// journald when stderr is the journal stream systemd set up for this service, stderr otherwise.
    ///
    /// systemd puts the device and inode of that stream in `JOURNAL_STREAM` (`systemd.exec(5)`);
    /// comparing them with stderr's own tells a service from a child whose stderr was redirected.
    public static func detect() -> LoggingBackend {
        var info = stat()
        let identity = fstat(STDERR_FILENO, &info) == 0 ? (device: UInt64(info.st_dev), inode: UInt64(info.st_ino)) : nil
        return detect(journalStream: getenv("JOURNAL_STREAM").map { String(cString: $0) }, stderr: identity)
    }

    /// The decision behind ``detect()``, on explicit inputs.
    static func detect(journalStream: String?, stderr: (device: UInt64, inode: UInt64)?) -> LoggingBackend {
        guard let journalStream, let stderr else { return .stderr }
        let parts = journalStream.split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return .stderr }
        return device == stderr.device && inode == stderr.inode ? .journald : .stderr
    }

    /// A handler factory for `LoggingSystem.bootstrap`, or for building loggers by hand. Handlers
    /// made with one `level` share it: setting it changes the level of all of them.
    public func makeHandler(
        label: String,
        level: LogLevelSwitch,
        identifier: String = "reeld",
        metadataProvider: Logger.MetadataProvider? = nil,
        redaction: LogRedaction = .default
    ) -> any LogHandler {
        switch self {
        case .journald:
            JournalLogHandler(
                label: label, identifier: identifier, level: level, metadataProvider: metadataProvider,
                redaction: redaction
            )
        case .stderr:
            StderrLogHandler(label: label, level: level, metadataProvider: metadataProvider, redaction: redaction)
        }
    }
}
