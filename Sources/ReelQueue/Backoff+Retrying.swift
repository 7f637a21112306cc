import ReelCore

extension Backoff {
    /// Runs `body` up to `attempts` times, waiting on `clock` for this backoff's delay after each
    /// failure but the last, and reports each failure (with its 1-based attempt) to `failed`.
    /// Returns nil when every attempt failed. A cancelled wait ends early and the next attempt
    /// follows at once, so a cancelled caller still gets its tries (shutdown records outcomes).
    func retrying<T: Sendable>(
        attempts: Int, clock: any QueueClock, random: () -> Double = { Double.random(in: 0..<1) },
        failed: (_ error: any Error, _ attempt: Int) -> Void, _ body: () async throws -> T
    ) async -> T? {
        for attempt in 1...max(attempts, 1) {
            do {
                return try await body()
            } catch {
                failed(error, attempt)
                if attempt < attempts {
                    try? await clock.sleep(for: delay(afterAttempt: attempt, random: random))
                }
            }
        }
        return nil
    }
}
