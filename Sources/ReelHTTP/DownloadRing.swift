import Foundation

/// The bytes of one download between the curl thread, which receives them, and the sink's own
/// thread, which hashes and writes them: a fixed ring, so a fast network and a slow disk cost
/// at most `capacity` bytes of memory. The curl thread never blocks on it: when the ring is
/// full it pauses the transfer (libcurl keeps the chunk) and is woken to resume once half the
/// ring is free again.
///
/// `@unchecked Sendable`: the raw buffer is shared by exactly two threads, and every index is
/// read and written under `condition`'s lock; the producer only copies into the free part and
/// the consumer only reads the filled part, which the indices keep apart.
final class DownloadRing: @unchecked Sendable {
    /// What `put` did with a chunk.
    enum Put {
        case accepted
        /// No room: pause the transfer; `resume` is called when there is room again.
        case full
        /// The consumer failed (the disk): the transfer must end.
        case failed(String)
    }

    let capacity: Int
    private let buffer: UnsafeMutableRawPointer
    private let condition = NSCondition()
    // Under `condition`'s lock: running totals, so their difference is the filled part.
    private var produced = 0
    private var consumed = 0
    private var producerWaits = false
    private var closed = false
    private var failed: String?
    private let resume: @Sendable () -> Void

    /// `resume` runs on the consumer's thread; it must only hand the news to the curl thread.
    init(capacity: Int, resume: @escaping @Sendable () -> Void) {
        self.capacity = capacity
        self.resume = resume
        buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 64)
    }

    deinit { buffer.deallocate() }

    // MARK: Producer (the curl thread)

    /// Copies the whole chunk in, or nothing.
    func put(_ data: UnsafeRawBufferPointer) -> Put {
        condition.lock()
        if let failed {
            condition.unlock()
            return .failed(failed)
        }
        guard capacity - (produced - consumed) >= data.count else {
            producerWaits = true
            condition.unlock()
            return .full
        }
        let start = produced
        condition.unlock()
        // The free part is the producer's alone until `produced` moves.
        copyIn(data, at: start)
        condition.lock()
        produced += data.count
        condition.signal()
        condition.unlock()
        return .accepted
    }

    /// A chunk larger than the ring (libcurl never sends one with the buffer size reeld sets):
    /// fed in halves, waiting for room. The only path on which the curl thread may wait.
    func putBlocking(_ data: UnsafeRawBufferPointer) -> Put {
        var offset = 0
        while offset < data.count {
            let piece = min(capacity / 2, data.count - offset)
            condition.lock()
            while failed == nil, capacity - (produced - consumed) < piece { condition.wait() }
            if let failed {
                condition.unlock()
                return .failed(failed)
            }
            condition.unlock()
            switch put(UnsafeRawBufferPointer(rebasing: data[offset..<(offset + piece)])) {
            case .accepted: offset += piece
            case .failed(let why): return .failed(why)
            case .full: continue
            }
        }
        return .accepted
    }

    /// No more bytes will come; `take` drains what is left, then returns nil.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    private func copyIn(_ data: UnsafeRawBufferPointer, at position: Int) {
        guard let base = data.baseAddress, !data.isEmpty else { return }
        let offset = position % capacity
        let first = min(data.count, capacity - offset)
        (buffer + offset).copyMemory(from: base, byteCount: first)
        if first < data.count { buffer.copyMemory(from: base + first, byteCount: data.count - first) }
    }

    /// Ends the exchange early (the download is abandoned): the consumer stops at its next
    /// block, a waiting producer returns.
    func fail(_ why: String) {
        condition.lock()
        if failed == nil { failed = why }
        condition.broadcast()
        condition.unlock()
    }

    /// Why the consumer stopped, if it failed.
    var failure: String? {
        condition.lock()
        defer { condition.unlock() }
        return failed
    }

    // MARK: Consumer (the sink's thread)

    /// Waits for bytes and lends the next contiguous stretch to `body`, then frees it; returns
    /// false once the ring is closed and empty. A throwing `body` fails the ring: the producer
    /// learns it at its next `put` (and is resumed if it was paused, so that it does).
    func take(upTo limit: Int, _ body: (UnsafeRawBufferPointer) throws(FileSinkError) -> Void) -> Bool {
        condition.lock()
        while produced == consumed, !closed, failed == nil { condition.wait() }
        if failed != nil || produced == consumed {
            condition.unlock()
            return false
        }
        let offset = consumed % capacity
        let count = min(produced - consumed, capacity - offset, limit)
        condition.unlock()
        var thrown: String?
        do throws(FileSinkError) {
            try body(UnsafeRawBufferPointer(start: buffer + offset, count: count))
        } catch {
            thrown = error.message
        }
        condition.lock()
        consumed += count
        if let thrown, failed == nil { failed = thrown }
        // Half the ring free before resuming: a paused transfer resumes for long stretches,
        // not for every chunk.
        let wake = producerWaits && (failed != nil || capacity - (produced - consumed) >= capacity / 2)
        if wake { producerWaits = false }
        condition.broadcast()
        condition.unlock()
        if wake { resume() }
        return thrown == nil
    }
}
