import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Keeps the normalised-input cache (`[render] cache_dir`) within a size budget: after a
/// render, the least recently used files go first until the rest fit.
///
/// A file is "used" when a render makes or reuses it: reuse sets its modification time to
/// now. A render holds a shared `flock` on every cache file it reads until it ends (`Lease`),
/// and eviction removes only a file it can lock exclusively without waiting, so a file a
/// render (in this process or another) is reading is never removed. Files used within
/// `grace` are kept too: a render that has just chosen a file has not yet locked it.
/// Hidden files are another render's output being written, left alone unless a day old
/// (a crash's leftovers).
public struct NormalizedCache: Sendable {
    public let directory: URL
    /// Bytes the cache may hold after eviction.
    public let budgetBytes: Int64
    public let grace: TimeInterval

    public init(directory: URL, budgetBytes: Int64, grace: TimeInterval = 300) {
        self.directory = directory
        self.budgetBytes = max(0, budgetBytes)
        self.grace = grace
    }

    /// Shared locks on the cache files one render reads, released when it is dropped.
    final class Lease {
        private var descriptors: [Int32] = []

        /// Locks `url` shared; false when it is gone (evicted between being found and locked),
        /// and then nothing is held.
        func hold(_ url: URL) -> Bool {
            let fd = open(url.path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { return false }
            var info = stat()
            // Locked after eviction unlinked it: the name now leads nowhere (or to a new file).
            guard flock(fd, LOCK_SH) == 0, fstat(fd, &info) == 0, info.st_nlink > 0 else {
                close(fd)
                return false
            }
            descriptors.append(fd)
            return true
        }

        deinit { for fd in descriptors { close(fd) } }
    }

    /// Marks `url` as used now.
    static func touch(_ url: URL) {
        // A nil `times` sets both access and modification time to now.
        _ = utimes(url.path, nil)
    }

    /// Removes least recently used files until the cache fits its budget; returns what went.
    @discardableResult
    public func evict(now: Date = Date()) -> [URL] {
        let keys: [URLResourceKey] = [.contentModificationDateKey, .fileSizeKey, .isRegularFileKey]
        guard let names = try? FileManager.default.contentsOfDirectory(
            at: directory, includingPropertiesForKeys: keys, options: [])
        else { return [] }
        var files: [(url: URL, used: Date, size: Int64)] = []
        var total: Int64 = 0
        for url in names {
            guard let values = try? url.resourceValues(forKeys: Set(keys)), values.isRegularFile == true else { continue }
            let used = values.contentModificationDate ?? .distantPast
            let size = Int64(values.fileSize ?? 0)
            if url.lastPathComponent.hasPrefix(".") {
                if now.timeIntervalSince(used) > 86_400 { _ = unlink(url.path) }
                continue
            }
            total += size
            files.append((url, used, size))
        }
        var removed: [URL] = []
        for file in files.sorted(by: { $0.used < $1.used }) where total > budgetBytes {
            if now.timeIntervalSince(file.used) < grace { continue }
            let fd = open(file.url.path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            // A render reading it holds a shared lock: then it stays.
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { continue }
            if unlink(file.url.path) == 0 {
                total -= file.size
                removed.append(file.url)
            }
        }
        return removed
    }
}
