import Testing

/// The tests that start real processes (reeld run, reeld demo, the spool crash driver) run one
/// at a time: on a two-core machine, a dozen process start-ups at once starve the rest of the
/// suite, whose own timing checks (NOTIFY pickup, cancellation) then fail for no fault of theirs.
@Suite(.serialized) enum ProcessTests {}
