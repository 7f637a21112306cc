import Logging
import Testing

import ReelSystemd

/// The process's log level, which a reload sets while loggers already exist.
@Suite struct LogLevelSwitchTests {
    @Test func settingTheSharedLevelChangesLoggersMadeBeforeButNotOneWithItsOwnLevel() {
        let level = LogLevelSwitch(.info)
        let service = Logger(label: "service") { StderrLogHandler(label: $0, level: level) }
        var quiet = Logger(label: "quiet") { JournalLogHandler(label: $0, level: level) }
        quiet.logLevel = .error
        #expect(service.logLevel == .info)

        level.level = .debug
        #expect(service.logLevel == .debug)
        #expect(quiet.logLevel == .error)

        level.level = .critical
        #expect(service.logLevel == .critical)
    }

    @Test(arguments: Logger.Level.allCases) func everyLevelRoundTrips(_ value: Logger.Level) {
        let level = LogLevelSwitch(.info)
        level.level = value
        #expect(level.level == value)
        #expect(LogLevelSwitch(value).level == value)
    }
}
