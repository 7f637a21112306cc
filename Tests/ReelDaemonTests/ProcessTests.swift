import Testing

/// The tests that start real processes (`reeld run`, `reeld demo`, the spool crash driver) run one
/// at a time: on a two-core machine, a dozen process start-ups at once starve the rest of the
/// suite, whose own timing checks (NOTIFY pickup, cancellation) then fail for no fault of theirs.
///
/// A serialized suite runs its children in source order, so the order is declared here, and each
/// suite's tests live in the file named after it. The demo, by far the heaviest (initdb, video
/// encoding), goes last, when the rest of the suite has mostly finished.
@Suite(.serialized) enum ProcessTests {
    /// What swift-service-lifecycle logs when SIGTERM reaches a node: a node's tests look for it
    /// to know the signal arrived (and at which log level lines were still written).
    static let signalCaught = #"msg="Signal caught. Shutting down the group." sl-signal=SIGTERM"#

    /// Real `reeld run` processes against a real PostgreSQL: a node SIGKILLed mid-job, a live node
    /// running a job far longer than its lease, and SIGTERM while jobs run.
    @Suite struct NodeProcessTests {}

    /// What systemd hears from a real `reeld run` when its work stops: no watchdog ping while
    /// a claim is stuck, and STATUS (and no more claims) once a newer reeld migrated the database.
    @Suite struct SystemdProcessTests {}

    /// `systemctl reload` as systemd does it: SIGHUP to a real `reeld run` whose config file
    /// changed. A valid file's tier limits reach the database and its log level applies at once;
    /// an invalid one changes nothing. Either way the node lives on and systemd hears
    /// RELOADING=1 (with MONOTONIC_USEC), then READY=1.
    @Suite struct ReloadProcessTests {}

    /// The spool's crash safety with real processes killed: at each checkpoint between reading and
    /// moving a file (deterministically, through the `SpoolCrashDriver` executable), and at random
    /// moments while `reeld run` ingests fifty files. After a restart every file is in `accepted/`
    /// or `rejected/` exactly once, unchanged, and each submission is one job.
    @Suite struct SpoolCrashTests {}

    /// `reelctl` as an operator runs it: every subcommand, its output and its exit codes.
    @Suite struct ReelctlProcessTests {}

    /// `reeld render` on timeline files written by hand, with clips beside them: its fast and
    /// full paths, its progress lines, its exit codes, and Ctrl-C.
    @Suite struct RenderProcessTests {}

    /// Three `reeld run` processes on one database, users of every tier with backlogs and
    /// providers with limits: no limit is ever exceeded, a light user is served at once, and the
    /// ledger balances afterwards.
    @Suite struct MultiNodeFairnessTests {}

    /// Three `reeld run` processes on a database of their own, killed, stopped and started again
    /// at random (the seed is printed; `REELD_CHAOS_SEED` replays it), the database restarted
    /// once and a job's row held locked past its lease: every job ends exactly once, the ledger
    /// balances, and the nodes are back at work within seconds. `scripts/chaos` runs it longer.
    @Suite struct ChaosTests {}

    /// The examples of README.md and docs/ run as written: job files are accepted and queued,
    /// configuration snippets parse, SQL runs, timelines decode, `reelctl` lines exit 0.
    @Suite struct DocumentationExamplesTests {}

    /// Real nodes against the fake providers in the test process, SIGKILLed between a provider
    /// taking a create and the task being recorded: after a restart each provider's documented
    /// recovery rule holds, counted in its create calls and in the user's ledger.
    @Suite struct ProviderCrashTests {}

    /// `workflow.run` through every remote provider's fake at once, ending in an exported film
    /// made of their media.
    @Suite struct ProviderFilmTests {}

    /// `reeld demo` end to end, as a user runs it: a real process with its own throwaway
    /// PostgreSQL, the local provider and libav. The film is checked through libav, and the
    /// database the demo leaves behind is started again and read.
    @Suite struct DemoEndToEndTests {}
}
