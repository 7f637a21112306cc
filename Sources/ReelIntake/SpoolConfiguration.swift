/// Settings of the spool intake (`[intake]` in `reeld.toml`).
public struct SpoolConfiguration: Sendable, Hashable {
    /// The spool root; `tmp/`, `new/`, `accepted/` and `rejected/` live under it.
    public var root: String
    /// Larger files are rejected unread. Default 1 MiB.
    public var maxFileBytes: Int
    /// Who may submit for whom; files of other owners are rejected. Default: only root and the
    /// uid reeld runs as.
    public var submitters: SpoolSubmitters
    /// How often `new/` is scanned in full, in case an inotify event was missed. Default 30 s.
    public var rescanInterval: Duration
    /// Mode of directories the spool creates. Default 0750. `accepted/` and `rejected/` never
    /// get group read or any bit for others (see `SpoolLayout`).
    public var directoryMode: UInt32

    public init(
        root: String, maxFileBytes: Int = 1 << 20, submitters: SpoolSubmitters = SpoolSubmitters(),
        rescanInterval: Duration = .seconds(30), directoryMode: UInt32 = 0o750
    ) {
        self.root = root
        self.maxFileBytes = maxFileBytes
        self.submitters = submitters
        self.rescanInterval = rescanInterval
        self.directoryMode = directoryMode
    }
}
