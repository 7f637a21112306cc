/// A one-way flag a service raises once it is ready and one other service waits for (READY=1
/// waits for intake; reloads wait for READY=1). The flag is the end of a stream: waiting returns when the stream has
/// finished, at once if it already has, or when the waiting task is cancelled.
final class Readiness: Sendable {
    private let stream: AsyncStream<Never>
    private let continuation: AsyncStream<Never>.Continuation

    init() {
        (stream, continuation) = AsyncStream.makeStream()
    }

    func markReady() { continuation.finish() }

    /// One waiter only (an `AsyncStream` has one consumer).
    func waitUntilReady() async {
        for await _ in stream {}
    }
}
