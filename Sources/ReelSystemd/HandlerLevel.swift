import Logging

/// A log handler's level: the process's shared `LogLevelSwitch` (which a reload changes),
/// unless one logger was given a level of its own (`logger.logLevel = .error`), which then
/// stays its own.
struct HandlerLevel: Sendable {
    let shared: LogLevelSwitch
    private var own: Logger.Level?

    init(_ shared: LogLevelSwitch) {
        self.shared = shared
    }

    var level: Logger.Level {
        get { own ?? shared.level }
        set { own = newValue }
    }
}
