import ArgumentParser
import ReelVersion

/// `reelctl`: the operator's command line for reeld's job queue. It talks to PostgreSQL
/// directly, so it works whether or not a daemon is running.
@main
struct ReelCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reelctl",
        abstract: "Submit, inspect, cancel and retry reeld jobs; show credits.",
        discussion: """
            Exit codes: 0 success, 64 usage, 65 invalid job file or job refused, \
            66 job, user or file not found, 69 database unreachable, 1 anything else.
            """,
        version: ReelVersion.line(program: "reelctl"),
        subcommands: [Submit.self, Show.self, List.self, Cancel.self, Retry.self, Credits.self]
    )

    /// Declared here so it may come before or after the subcommand's name; subcommands read it
    /// through `@ParentCommand`.
    @OptionGroup var global: GlobalOptions
}
