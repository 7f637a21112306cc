/// What the watcher still has to do, coalesced: names announced by inotify (each once, in
/// arrival order) or a full rescan, which covers every name. Pure value; `SpoolEventSource`
/// keeps it behind a lock.
struct SpoolWorkQueue: Sendable, Hashable {
    enum Work: Sendable, Hashable {
        case rescan
        case files([[UInt8]])
    }

    private var names: [[UInt8]] = []
    private var queued: Set<[UInt8]> = []
    private var rescanRequested = false

    var isEmpty: Bool { names.isEmpty && !rescanRequested }

    mutating func fileArrived(_ name: [UInt8]) {
        if rescanRequested { return }
        if queued.insert(name).inserted { names.append(name) }
    }

    /// After an inotify overflow, on the timer and at start: every name is looked at anyway.
    mutating func requestRescan() {
        rescanRequested = true
        names.removeAll()
        queued.removeAll()
    }

    /// Takes everything queued.
    mutating func take() -> Work? {
        if rescanRequested {
            rescanRequested = false
            return .rescan
        }
        if names.isEmpty { return nil }
        defer { names.removeAll(); queued.removeAll() }
        return .files(names)
    }
}
