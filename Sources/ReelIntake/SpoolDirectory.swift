import CXattr
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

    /// Clears every permission bit of this directory outside `mask`, if any is set.
    func restrictMode(to mask: UInt32) throws(SpoolIOError) {
        var st = stat()
        try SpoolIOError.check("fstat", path) { fstat(fd, &st) }
        let mode = UInt32(st.st_mode & 0o7777)
        if mode & ~mask == 0 { return }
        try SpoolIOError.check("chmod", path) { fchmod(fd, mode_t(mode & mask)) }
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

    /// What became of a `move`.
    enum MoveResult: Sendable, Hashable {
        case moved
        /// `target` is taken by another file; nothing changed.
        case taken
        /// `name` is no longer the file expected (its owner replaced it); it is left in place.
        case replaced
    }

    /// Makes `name` appear as `target` in `destination` and disappear from here, never replacing
    /// an existing `target`, and only if `name` is still the file `expected`.
    ///
    /// A hard link then an unlink, because `link` refuses to replace (Glibc does not export
    /// `renameat2(RENAME_NOREPLACE)`). A crash between the two leaves the same inode under both
    /// names; the next attempt sees `target` is that very file and just removes `name`.
    /// `afterLink` runs at that point, with both names durable (the crash tests stop there).
    ///
    /// The owner of a file in the sticky `new/` can rename another file over its name at any
    /// moment, so the identity is checked on what was linked or renamed, not only before: what
    /// lands in `destination` is provably the file that was read.
    func move(
        _ name: String, to destination: SpoolDirectory, as target: String, expecting expected: SpoolFileLifecycle.Facts.Identity,
        afterLink: () -> Void = {}
    ) throws(SpoolIOError) -> MoveResult {
        let source = path + "/" + name
        if try facts(of: name).identity != expected { return .replaced }
        if linkat(fd, name, destination.fd, target, 0) == -1 {
            switch errno {
            case EEXIST:
                // Taken, unless by this very file from a move a crash interrupted.
                guard try destination.facts(of: target).identity == expected else { return .taken }
            case EPERM:
                // Directories cannot be hard-linked, and with fs.protected_hardlinks neither can a
                // file reeld does not own and may not write: a submitter's, the usual case. Only
                // reeld writes the destination, so check-then-rename does not race with another writer.
                if try destination.exists(target) { return .taken }
                try SpoolIOError.check("rename", source) { renameat(fd, name, destination.fd, target) }
                if try destination.facts(of: target).identity != expected {
                    // Replaced between the look and the rename: this file was never handled, so it goes back.
                    try destination.putBack(target, into: self, as: name)
                    return .replaced
                }
                try destination.sync()
                return .moved
            case let code:
                throw SpoolIOError(operation: "link", path: source, code: code)
            }
        } else if try destination.facts(of: target).identity != expected {
            // Replaced between the look and the link: the new link is undone, the file stays in `new/`.
            try destination.unlink(target)
            return .replaced
        }
        // The new name must be on disk before the old one goes, or a crash could lose the file.
        try destination.sync()
        afterLink()
        // Replaced after the link: the file read is in `destination`; the one now under `name`
        // stays for its own turn. (Only its owner can replace it, in the instant between the
        // look and the unlink.)
        if try facts(of: name).identity == expected {
            try SpoolIOError.check("unlink", source) { unlinkat(fd, name, 0) }
        }
        return .moved
    }

    /// Returns `name`, moved here by mistake, to `home`: under `target` if free, else under the
    /// first free suffixed name, so that a file dropped meanwhile is not replaced.
    private func putBack(_ name: String, into home: SpoolDirectory, as target: String) throws(SpoolIOError) {
        for candidate in SpoolLayout.candidates(for: target) where try !home.exists(candidate) {
            try SpoolIOError.check("rename", path + "/" + name) { renameat(fd, name, home.fd, candidate) }
            return
        }
        throw SpoolIOError.noFreeName(in: home.path + "/" + target)
    }

    /// Writes `contents` as `target` here, atomically and durably: into a fresh file in
    /// `scratch`, `fsync`, linked here without replacing, directory synced. Returns false if
    /// `target` is taken.
    ///
    /// The file is mode 0600; with `reader`, a POSIX ACL lets that one uid read it too, so a
    /// submitter reads the reason for their own file and no other submitter does. Where the file
    /// system has no ACLs it stays 0600 (reeld logs every reason as well).
    func writeDurably(
        _ contents: [UInt8], as target: String, via scratch: SpoolDirectory, readableBy reader: UInt32? = nil
    ) throws(SpoolIOError) -> Bool {
        let tmpName = ".reeld-\(getpid())-\(UInt64.random(in: .min ... .max)).tmp"
        let tmpPath = scratch.path + "/" + tmpName
        let out = try SpoolIOError.check("create", tmpPath) {
            openat(scratch.fd, tmpName, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode_t(0o600))
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
            if let reader, reader != geteuid() {
                let acl = Self.accessACL(readableBy: reader)
                // EOPNOTSUPP (no ACLs here) leaves the file to reeld alone, which is safe.
                _ = acl.withUnsafeBytes { raw in reeld_fsetxattr(out, "system.posix_acl_access", raw.baseAddress, raw.count, 0) }
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

    /// The binary `system.posix_acl_access` value (see acl(5) and the kernel's
    /// `posix_acl_xattr.h`) for owner rw, `reader` r, group and others nothing: entries of
    /// tag, permission and id, little-endian, in tag order after a version header.
    static func accessACL(readableBy reader: UInt32) -> [UInt8] {
        let undefined = UInt32.max
        // (tag, permission, id): ACL_USER_OBJ, ACL_USER, ACL_GROUP_OBJ, ACL_MASK, ACL_OTHER.
        let entries: [(UInt16, UInt16, UInt32)] = [
            (0x01, 6, undefined), (0x02, 4, reader), (0x04, 0, undefined), (0x10, 4, undefined), (0x20, 0, undefined),
        ]
        var bytes: [UInt8] = []
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
        append(UInt32(2))
        for (tag, permission, id) in entries {
            append(tag)
            append(permission)
            append(id)
        }
        return bytes
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
            type: type, size: Int64(st.st_size), ownerUID: st.st_uid, device: UInt64(st.st_dev), inode: UInt64(st.st_ino),
            mode: UInt32(st.st_mode & 0o7777), linkCount: UInt64(st.st_nlink))
    }
}
