import Glibc

/// A spool file opened for reading; closed when released.
final class SpoolOpenFile: Sendable {
    let fd: Int32
    let path: String

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { close(fd) }

    /// Facts of the open file itself, so what is read is what was checked.
    func facts() throws(SpoolIOError) -> SpoolFileLifecycle.Facts {
        var st = stat()
        try SpoolIOError.check("fstat", path) { fstat(fd, &st) }
        return SpoolDirectory.facts(st)
    }

    /// Reads to the end, or stops after `limit + 1` bytes so an oversized file is detected unread.
    func read(limit: Int) throws(SpoolIOError) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while bytes.count <= limit {
            let want = min(chunk.count, limit + 1 - bytes.count)
            let got = try SpoolIOError.check("read", path) {
                chunk.withUnsafeMutableBytes { raw in Glibc.read(fd, raw.baseAddress!, want) }
            }
            if got == 0 { break }
            bytes.append(contentsOf: chunk[..<got])
        }
        return bytes
    }
}
