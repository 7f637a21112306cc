import Foundation
import Glibc
import Logging
import ReelCore
import Synchronization

/// LISTENs on channels on a connection of its own and delivers NOTIFYs as an async sequence.
///
/// The thread blocks in poll() on the connection's socket and a wake pipe, so an idle daemon
/// spends no CPU here. After a reconnect it delivers a `reconnected` notification: anything
/// sent while it was away is lost, and the consumer should look at the queue once.
public final class NotificationListener: Sendable {
    /// The channel name delivered after the listener (re)connects.
    public static let reconnectedChannel = "reeld.listener.reconnected"

    public let notifications: AsyncStream<DatabaseNotification>
    private let continuation: AsyncStream<DatabaseNotification>.Continuation
    private let wakePipe: (read: Int32, write: Int32)
    private let stopped = Atomic<Bool>(false)

    /// Starts listening at once; `stop()` (or deinit) ends it.
    public init(url: String, channels: [String], logger: Logger) {
        (notifications, continuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1024))
        var fds: [Int32] = [0, 0]
        precondition(pipe(&fds) == 0, "pipe failed: out of file descriptors")
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        wakePipe = (fds[0], fds[1])
        let thread = Thread { [self] in
            self.loop(url: url, channels: channels, logger: logger)
        }
        thread.name = "reeld-listen"
        thread.start()
    }

    deinit { stop() }

    public func stop() {
        if stopped.exchange(true, ordering: .sequentiallyConsistent) { return }
        var byte: UInt8 = 1
        _ = write(wakePipe.write, &byte, 1)
    }

    /// Between reconnects: no jitter, because a listener that is away only delays wake-ups
    /// (the poll timer covers them), and its reconnects are one connection per node.
    static let reconnectBackoff = Backoff(base: .milliseconds(200), cap: .seconds(5), jitter: .none)

    private func loop(url: String, channels: [String], logger: Logger) {
        var failures = 0
        while !stopped.load(ordering: .sequentiallyConsistent) {
            do {
                let conn = try PostgresConnection(url: url, logger: logger)
                for channel in channels {
                    // Channel names are reeld's own constants, never input.
                    try conn.execute("listen \"\(channel.replacingOccurrences(of: "\"", with: "\"\""))\"")
                }
                failures = 0
                continuation.yield(DatabaseNotification(channel: Self.reconnectedChannel, payload: ""))
                try waitLoop(conn)
            } catch {
                failures += 1
                logger.warning("Notification listener lost its connection", metadata: ["error": "\(error)", "failures": "\(failures)"])
                // Back off, waking early on stop().
                let wait = Self.reconnectBackoff.delay(afterAttempt: failures)
                var fd = pollfd(fd: wakePipe.read, events: Int16(POLLIN), revents: 0)
                _ = poll(&fd, 1, Int32(wait.seconds * 1000))
            }
        }
        continuation.finish()
        close(wakePipe.read)
        close(wakePipe.write)
    }

    private func waitLoop(_ conn: PostgresConnection) throws {
        var fds = [
            pollfd(fd: conn.socket, events: Int16(POLLIN), revents: 0),
            pollfd(fd: wakePipe.read, events: Int16(POLLIN), revents: 0),
        ]
        while !stopped.load(ordering: .sequentiallyConsistent) {
            fds[0].revents = 0
            fds[1].revents = 0
            let ready = poll(&fds, 2, -1)
            if ready < 0 {
                if errno == EINTR { continue }
                throw DatabaseError(kind: .connection, message: "poll failed: errno \(errno)")
            }
            if fds[1].revents != 0 { return }
            if fds[0].revents != 0 {
                for notification in try conn.drainNotifications() { continuation.yield(notification) }
            }
        }
    }
}
