import Logging
import Synchronization

/// The log level of a whole process, changeable while it runs. Every handler made with it reads
/// it on each log call, so setting it changes what every logger logs, also the copies that
/// services took at start: this is how a reload (SIGHUP) applies `[log] level`.
///
/// An atomic rather than a `Mutex`: swift-log asks for the level before every log call, also
/// for the trace and debug calls it then drops, and a relaxed load costs nothing there.
public final class LogLevelSwitch: Sendable {
    private let code: Atomic<UInt8>

    public init(_ level: Logger.Level) {
        code = Atomic(Self.code(of: level))
    }

    /// The lowest level logged now.
    public var level: Logger.Level {
        get { Self.levels[Int(code.load(ordering: .relaxed))] }
        set { code.store(Self.code(of: newValue), ordering: .relaxed) }
    }

    private static let levels = Logger.Level.allCases

    private static func code(of level: Logger.Level) -> UInt8 {
        UInt8(levels.firstIndex(of: level) ?? 0)
    }
}
