/// A point between two steps of handling one spool file, where a crash leaves something
/// different behind. `SpoolProcessor` reports each one it passes to an observer; the crash tests
/// stop a real process at each and SIGKILL it there, to prove that restarting loses nothing and
/// submits nothing twice.
public enum SpoolCheckpoint: String, Sendable, Hashable, CaseIterable {
    /// The file is open and has passed (or failed) its checks; nothing is read yet.
    case inspected
    /// The file is read and decoded (or found invalid); nothing is submitted yet.
    case read
    /// The queue has committed the job; the file is still in `new/`.
    case submitted
    /// A rejected file's `NAME.error.json` is durable in `rejected/`; the file is still in `new/`.
    case reasonWritten
    /// The file is linked into `accepted/` or `rejected/` and still in `new/` (the middle of the move).
    case linked
    /// The file has left `new/`; its outcome is not reported yet.
    case moved
}
