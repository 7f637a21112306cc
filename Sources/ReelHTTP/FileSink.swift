import Crypto
import Foundation
import Glibc

/// Where a download's bytes go: a `.part` file beside the destination, hashed as it is
/// written, renamed into place only when the body is complete, removed otherwise; so no
/// reader ever sees a partial file under the final name. Lives on the curl thread.
final class FileSink {
    private let fd: Int32
    private let partPath: String
    private let finalPath: String
    private var hasher = SHA256()
    private(set) var count: Int64 = 0
    private var open = true

    static func partPath(for destination: URL) -> String { destination.path + ".part" }

    init(destination: URL) throws(FileSinkError) {
        finalPath = destination.path
        partPath = Self.partPath(for: destination)
        fd = Glibc.open(partPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileSinkError("\(partPath): \(String(cString: strerror(errno)))") }
    }

    deinit { discard() }

    func write(_ data: UnsafeRawBufferPointer) throws(FileSinkError) {
        hasher.update(bufferPointer: data)
        var offset = 0
        while offset < data.count {
            let written = Glibc.write(fd, data.baseAddress! + offset, data.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw FileSinkError("\(partPath): \(String(cString: strerror(errno)))")
            }
            offset += written
        }
        count += Int64(data.count)
    }

    /// Closes and renames the file into place; returns the SHA-256 in hex. No fsync: the job
    /// moves the file into storage next, which makes it durable there.
    func finish() throws(FileSinkError) -> String {
        open = false
        guard close(fd) == 0 else {
            let why = String(cString: strerror(errno))
            unlink(partPath)
            throw FileSinkError("\(partPath): \(why)")
        }
        guard rename(partPath, finalPath) == 0 else {
            let why = String(cString: strerror(errno))
            unlink(partPath)
            throw FileSinkError("\(finalPath): \(why)")
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// Closes and removes the partial file. Idempotent.
    func discard() {
        guard open else { return }
        open = false
        close(fd)
        unlink(partPath)
    }
}

struct FileSinkError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
