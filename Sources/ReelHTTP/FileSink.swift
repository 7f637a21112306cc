import Crypto
import Foundation
import Glibc
import Synchronization

/// Where a download's bytes go: a `.part` file beside the destination, hashed as it is
/// written, renamed into place only when the body is complete, removed otherwise; so no
/// reader ever sees a partial file under the final name.
///
/// The curl thread only copies each chunk into a `DownloadRing`; a thread of the sink's own
/// hashes and writes it in large blocks. SHA-256 costs about as much CPU as receiving the bytes,
/// so done on the curl thread it held every download (and every other transfer) to the speed of
/// one core doing both. Owned by the curl thread; the writer thread sees only the ring and the file.
final class FileSink {
    /// Blocks the writer hashes and writes at once: fewer system calls than libcurl's chunks.
    static let blockSize = 1 << 20

    private let fd: Int32
    private let partPath: String
    private let finalPath: String
    private let ring: DownloadRing
    private let digest = DigestBox()
    private let writerEnded = DispatchSemaphore(value: 0)
    /// Bytes accepted from libcurl so far (the writer may still be behind).
    private(set) var count: Int64 = 0
    private var open = true

    static func partPath(for destination: URL) -> String { destination.path + ".part" }

    /// `resume` is called from the writer thread when a write that answered `false` may be
    /// retried: the transfer was paused and there is room again.
    /// `bufferBytes` (the ring's size) bounds a download's memory whatever the disk's speed.
    init(destination: URL, bufferBytes: Int, resume: @escaping @Sendable () -> Void) throws(FileSinkError) {
        finalPath = destination.path
        partPath = Self.partPath(for: destination)
        fd = Glibc.open(partPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileSinkError("\(partPath): \(String(cString: strerror(errno)))") }
        ring = DownloadRing(capacity: bufferBytes, resume: resume)
        let ring = self.ring, fd = self.fd, path = partPath, digest = self.digest, ended = writerEnded
        // A thread, not a task: it blocks in write(2), which must not hold a thread of Swift's
        // cooperative pool. It ends when the ring is closed and drained, or fails.
        let writer = Thread {
            var hasher = SHA256()
            while ring.take(upTo: min(Self.blockSize, ring.capacity / 2), { block throws(FileSinkError) in
                hasher.update(bufferPointer: block)
                try Self.writeAll(fd, block, path: path)
            }) {}
            digest.hex.withLock { $0 = hasher.finalize().map { String(format: "%02x", $0) }.joined() }
            ended.signal()
        }
        writer.name = "reeld-http-file"
        writer.start()
    }

    deinit { discard() }

    /// Takes the whole chunk, or answers false: no room, pause the transfer until `resume`.
    func write(_ data: UnsafeRawBufferPointer) throws(FileSinkError) -> Bool {
        let put = data.count > ring.capacity / 2 ? ring.putBlocking(data) : ring.put(data)
        switch put {
        case .accepted:
            count += Int64(data.count)
            return true
        case .full:
            return false
        case .failed(let why):
            throw FileSinkError(why)
        }
    }

    /// Waits for the writer to drain the ring, closes and renames the file into place; returns
    /// the SHA-256 in hex. No fsync: the job moves the file into storage next, which makes it
    /// durable there.
    func finish() throws(FileSinkError) -> String {
        open = false
        ring.close()
        writerEnded.wait()
        if let why = ring.failure {
            Glibc.close(fd)
            unlink(partPath)
            throw FileSinkError(why)
        }
        guard Glibc.close(fd) == 0 else {
            let why = String(cString: strerror(errno))
            unlink(partPath)
            throw FileSinkError("\(partPath): \(why)")
        }
        guard rename(partPath, finalPath) == 0 else {
            let why = String(cString: strerror(errno))
            unlink(partPath)
            throw FileSinkError("\(finalPath): \(why)")
        }
        return digest.hex.withLock { $0 } ?? ""
    }

    /// Stops the writer, closes and removes the partial file. Idempotent.
    func discard() {
        guard open else { return }
        open = false
        ring.fail("discarded")
        writerEnded.wait()
        Glibc.close(fd)
        unlink(partPath)
    }

    private static func writeAll(_ fd: Int32, _ data: UnsafeRawBufferPointer, path: String) throws(FileSinkError) {
        var offset = 0
        while offset < data.count {
            let written = Glibc.write(fd, data.baseAddress! + offset, data.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw FileSinkError("\(path): \(String(cString: strerror(errno)))")
            }
            offset += written
        }
    }

    /// The writer's result, handed to the curl thread.
    private final class DigestBox: Sendable {
        let hex = Mutex<String?>(nil)
    }
}

struct FileSinkError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
