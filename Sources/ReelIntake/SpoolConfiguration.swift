/// Settings of the spool intake (`[intake.spool]` in `reeld.toml`).
public struct SpoolConfiguration: Sendable, Hashable {
    /// The spool root; `tmp/`, `new/`, `accepted/` and `rejected/` live under it.
    public var root: String
    /// Larger files are rejected unread. Default 1 MiB.
    public var maxFileBytes: Int
    /// Owners (uids) whose files are accepted; empty accepts any owner. Files of other owners are rejected.
    public var allowedOwnerUIDs: Set<UInt32>
    /// How often `new/` is scanned in full, in case an inotify event was missed. Default 30 s.
    public var rescanInterval: Duration
    /// Mode of directories the spool creates. Default 0750: the group may drop files, others see nothing.
    public var directoryMode: UInt32

    public init(
        root: String, maxFileBytes: Int = 1 << 20, allowedOwnerUIDs: Set<UInt32> = [],
        rescanInterval: Duration = .seconds(30), directoryMode: UInt32 = 0o750
    ) {
        self.root = root
        self.maxFileBytes = maxFileBytes
        self.allowedOwnerUIDs = allowedOwnerUIDs
        self.rescanInterval = rescanInterval
        self.directoryMode = directoryMode
    }
}
