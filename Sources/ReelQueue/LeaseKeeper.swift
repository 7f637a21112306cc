import Foundation
import Logging

/// Keeps the leases of the jobs a node holds: every `interval` it extends them all in one round
/// trip, records their progress, and stops the jobs whose cancel was requested or whose lease
/// the node lost (it stalled past its lease and was rescued; another node may run them now).
struct LeaseKeeper: Sendable {
    let queue: JobQueue
    let lease: Duration
    let interval: Duration
    let logger: Logger

    /// Beats until cancelled. `held` lists the attempts to keep with their progress boxes;
    /// `current` finds an attempt's box at the moment of the answer (nil once its end is committed).
    func run(held: () -> [JobLease: ProgressBox], current: (JobLease) -> ProgressBox?) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            if Task.isCancelled { return }
            await beat(held: held(), current: current)
        }
    }

    private func beat(held: [JobLease: ProgressBox], current: (JobLease) -> ProgressBox?) async {
        guard !held.isEmpty else { return }
        do {
            let answer = try await queue.heartbeat(held.mapValues { $0.value.withLock { $0 } }, lease: lease)
            // A finished job awaiting its completion commit shows as lost once the commit
            // lands; only jobs whose handler still runs are really lost.
            let lost = answer.lost.filter { id in
                current(id).map { !$0.finished.load(ordering: .relaxed) } ?? false
            }
            for id in answer.cancelRequested.union(lost) {
                current(id)?.cancel()
            }
            if !lost.isEmpty {
                logger.warning("Lost leases; stopping those jobs", metadata: ["jobs": "\(lost.count)"])
            }
        } catch {
            logger.error("Heartbeat failed", metadata: ["error": "\(error)"])
        }
    }
}
