/// The spool's directories, held open: writers create files in `tmp/` and rename them into
/// `new/` (the Maildir protocol); reeld moves each one to `accepted/` or `rejected/`.
final class SpoolLayout: Sendable {
    let root: SpoolDirectory
    let tmp: SpoolDirectory
    let new: SpoolDirectory
    let accepted: SpoolDirectory
    let rejected: SpoolDirectory

    /// Opens the spool at `configuration.root`, creating missing directories with `directoryMode`.
    ///
    /// `accepted/` and `rejected/` hold every submitter's files and reasons: the group may pass
    /// through them to a name it knows, never list them, and others get nothing. That is enforced
    /// on directories that exist already too, so an old or hand-made spool is closed at start.
    init(_ configuration: SpoolConfiguration) throws(SpoolIOError) {
        let mode = configuration.directoryMode
        root = try SpoolDirectory.openRoot(configuration.root, mode: mode)
        tmp = try root.subdirectory("tmp", mode: mode)
        new = try root.subdirectory("new", mode: mode)
        accepted = try root.subdirectory("accepted", mode: mode & Self.resultModeMask)
        rejected = try root.subdirectory("rejected", mode: mode & Self.resultModeMask)
        try accepted.restrictMode(to: Self.resultModeMask)
        try rejected.restrictMode(to: Self.resultModeMask)
    }

    /// Bits a result directory may have: all for reeld, search (not read or write) for the group.
    static let resultModeMask: UInt32 = 0o7710

    /// `name`, then `name` with `.1`, `.2`… before its extension (`job.json`, `job.1.json`).
    static func candidates(for name: String, limit: Int = 1000) -> [String] {
        let base: Substring, ext: Substring
        if let dot = name.lastIndex(of: "."), dot != name.startIndex {
            base = name[..<dot]
            ext = name[dot...]
        } else {
            base = name[...]
            ext = ""
        }
        return [name] + (1..<limit).map { "\(base).\($0)\(ext)" }
    }
}
