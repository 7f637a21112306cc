import Glibc

/// One directory of the spool, held open, so that every file operation is relative to it
/// (`openat`, `linkat`…) and a name can never lead outside it.
///
/// Owns its descriptor; immutable, so `Sendable`.
final class SpoolDirectory: Sendable {
    let fd: Int32
    /// For messages only; never used to reach a file.
    let path: String

    private init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { close(fd) }

    /// Opens (creating with `mode` if missing, parents too) the directory at `path`.
    static func openRoot(_ path: String, mode: UInt32) throws(SpoolIOError) -> SpoolDirectory {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            let p = prefix
            if mkdir(p, mode_t(mode)) == -1, errno != EEXIST {
                throw SpoolIOError(operation: "mkdir", path: p, code: errno)
            }
        }
        let fd = try SpoolIOError.check("open", path) { open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        return SpoolDirectory(fd: fd, path: path)
    }

    /// Opens (creating with `mode` if missing) the subdirectory `name`, refusing a symlink in its place.
    func subdirectory(_ name: String, mode: UInt32) throws(SpoolIOError) -> SpoolDirectory {
        let full = path + "/" + name
        if mkdirat(fd, name, mode_t(mode)) == -1, errno != EEXIST {
            throw SpoolIOError(operation: "mkdir", path: full, code: errno)
        }
        let sub = try SpoolIOError.check("open", full) { openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        return SpoolDirectory(fd: sub, path: full)
    }

    /// The raw names in this directory, `.` and `..` excluded, sorted bytewise (Maildir names
    /// start with a time, so this is roughly arrival order).
    func entryNames() throws(SpoolIOError) -> [[UInt8]] {
        let dup = try SpoolIOError.check("dup", path) { Glibc.dup(fd) }
        guard let dir = fdopendir(dup) else {
            let code = errno
            close(dup)
            throw SpoolIOError(operation: "opendir", path: path, code: code)
        }
        defer { closedir(dir) }
        rewinddir(dir)
        var names: [[UInt8]] = []
        while true {
            errno = 0
            guard let entry = readdir(dir) else {
                if errno != 0 { throw SpoolIOError(operation: "readdir", path: path, code: errno) }
                break
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                Array(raw.prefix { $0 != 0 })
            }
            if name == [UInt8(ascii: ".")] || name == [UInt8(ascii: "."), UInt8(ascii: ".")] { continue }
            names.append(name)
        }
        return names.sorted { $0.lexicographicallyPrecedes($1) }
    }

    /// Facts about `name` itself, not what it may link to.
    func facts(of name: String) throws(SpoolIOError) -> SpoolFileLifecycle.Facts {
        var st = stat()
        try SpoolIOError.check("stat", path + "/" + name) { fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) }
        return Self.facts(st)
    }

    func exists(_ name: String) throws(SpoolIOError) -> Bool {
        do {
            _ = try facts(of: name)
            return true
        } catch where error.isNotFound {
            return false
        }
    }

    /// Opens `name` for reading without following a symlink and without blocking on a FIFO.
    func openForReading(_ name: String) throws(SpoolIOError) -> SpoolOpenFile {
        let fd = try SpoolIOError.check("open", path + "/" + name) {
            openat(self.fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        }
        return SpoolOpenFile(fd: fd, path: path + "/" + name)
    }

    /// Makes `name` appear as `target` in `destination` and disappear from here, never replacing
    /// an existing `target`. Returns false (and changes nothing) if `target` is taken.
    ///
    /// A hard link then an unlink, because `link` refuses to replace (Glibc does not export
    /// `renameat2(RENAME_NOREPLACE)`). A crash between the two leaves the same inode under both
    /// names; the next attempt sees `target` is that very file and just removes `name`.
    /// `afterLink` runs at that point, with both names durable (the crash tests stop there).
    func move(
        _ name: String, to destination: SpoolDirectory, as target: String, afterLink: () -> Void = {}
    ) throws(SpoolIOError) -> Bool {
        let source = path + "/" + name
        if linkat(fd, name, destination.fd, target, 0) == -1 {
            switch errno {
            case EEXIST:
                let here = try facts(of: name), there = try destination.facts(of: target)
                guard here.inode == there.inode, here.device == there.device else { return false }
            case EPERM:
                // Directories cannot be hard-linked. Only reeld writes the destination, so
                // check-then-rename does not race with another writer.
                if try destination.exists(target) { return false }
                try SpoolIOError.check("rename", source) { renameat(fd, name, destination.fd, target) }
                try destination.sync()
                return true
            case let code:
                throw SpoolIOError(operation: "link", path: source, code: code)
            }
        }
        // The new name must be on disk before the old one goes, or a crash could lose the file.
        try destination.sync()
        afterLink()
        try SpoolIOError.check("unlink", source) { unlinkat(fd, name, 0) }
        return true
    }

    /// Writes `contents` as `target` here, atomically and durably: into a fresh file in
    /// `scratch`, `fsync`, linked here without replacing, directory synced. Returns false if
    /// `target` is taken.
    func writeDurably(_ contents: [UInt8], as target: String, via scratch: SpoolDirectory) throws(SpoolIOError) -> Bool {
        let tmpName = ".reeld-\(getpid())-\(UInt64.random(in: .min ... .max)).tmp"
        let tmpPath = scratch.path + "/" + tmpName
        let out = try SpoolIOError.check("create", tmpPath) {
            openat(scratch.fd, tmpName, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode_t(0o640))
        }
        defer { unlinkat(scratch.fd, tmpName, 0) }
        do {
            defer { close(out) }
            var offset = 0
            while offset < contents.count {
                let written = try SpoolIOError.check("write", tmpPath) {
                    contents.withUnsafeBytes { raw in write(out, raw.baseAddress! + offset, raw.count - offset) }
                }
                offset += written
            }
            try SpoolIOError.check("fsync", tmpPath) { fsync(out) }
        }
        if linkat(scratch.fd, tmpName, fd, target, 0) == -1 {
            if errno == EEXIST { return false }
            throw SpoolIOError(operation: "link", path: path + "/" + target, code: errno)
        }
        try sync()
        return true
    }

    func unlink(_ name: String) throws(SpoolIOError) {
        try SpoolIOError.check("unlink", path + "/" + name) { unlinkat(fd, name, 0) }
    }

    /// Makes the directory's entries durable.
    func sync() throws(SpoolIOError) {
        try SpoolIOError.check("fsync", path) { fsync(fd) }
    }

    static func facts(_ st: stat) -> SpoolFileLifecycle.Facts {
        let type: SpoolFileLifecycle.Facts.FileType =
            switch st.st_mode & S_IFMT {
            case S_IFREG: .regular
            case S_IFDIR: .directory
            case S_IFLNK: .symlink
            case S_IFIFO: .fifo
            case S_IFSOCK: .socket
            case S_IFCHR: .characterDevice
            case S_IFBLK: .blockDevice
            default: .unknown
            }
        return SpoolFileLifecycle.Facts(
            type: type, size: Int64(st.st_size), ownerUID: st.st_uid, device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
    }
}
