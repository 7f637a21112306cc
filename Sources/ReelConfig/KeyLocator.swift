import TOMLKit

/// Finds the line where a key was written, for errors about a setting.
///
/// TOMLKit reports no positions for values, so the locator asks TOMLKit itself: the key was
/// written in the first top-level statement after which the text, cut there, already holds it.
/// Cut at statement boundaries, a valid document stays valid, so a binary search over them
/// finds that statement in a few parses; the position is the statement's start. Only errors
/// pay for it, and if any parse fails the error simply has no position.
struct KeyLocator {
    let bytes: [UInt8]
    /// Byte offsets of the top-level statements, from ``TOMLPrecheck``.
    let statementStarts: [Int]

    func position(of path: [String]) -> TOMLPosition? {
        guard !path.isEmpty, !statementStarts.isEmpty, holds(path, through: statementStarts.count - 1) == true else {
            return nil
        }
        var low = 0
        var high = statementStarts.count - 1
        while low < high {
            let middle = (low + high) / 2
            switch holds(path, through: middle) {
            case true?: high = middle
            case false?: low = middle + 1
            case nil: return nil
            }
        }
        return TOMLPrecheck.position(of: statementStarts[low], in: bytes)
    }

    /// Whether the text up to the end of statement `last` defines `path`; nil if it does not parse.
    private func holds(_ path: [String], through last: Int) -> Bool? {
        let end = last + 1 < statementStarts.count ? statementStarts[last + 1] : bytes.count
        guard let root = try? TOMLTable(string: String(decoding: bytes[..<end], as: UTF8.self)) else { return nil }
        var table = root
        for (depth, key) in path.enumerated() {
            guard let value = table[key] else { return false }
            if depth == path.count - 1 { return true }
            guard let child = value.table else { return false }
            table = child
        }
        return false
    }
}
