/// The spool's directories, held open: writers create files in `tmp/` and rename them into
/// `new/` (the Maildir protocol); reeld moves each one to `accepted/` or `rejected/`.
final class SpoolLayout: Sendable {
    let root: SpoolDirectory
    let tmp: SpoolDirectory
    let new: SpoolDirectory
    let accepted: SpoolDirectory
    let rejected: SpoolDirectory

    /// Opens the spool at `configuration.root`, creating missing directories with `directoryMode`.
    init(_ configuration: SpoolConfiguration) throws(SpoolIOError) {
        let mode = configuration.directoryMode
        root = try SpoolDirectory.openRoot(configuration.root, mode: mode)
        tmp = try root.subdirectory("tmp", mode: mode)
        new = try root.subdirectory("new", mode: mode)
        accepted = try root.subdirectory("accepted", mode: mode)
        rejected = try root.subdirectory("rejected", mode: mode)
    }

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
