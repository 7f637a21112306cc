import Foundation

/// Runs blocking work (libav, file hashing) on a thread of its own so that it never holds one
/// of the cooperative pool's threads, of which this machine has two.
enum Blocking {
    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try body() }) }
            thread.name = "reeld-blocking"
            thread.start()
        }
    }
}
