import Foundation
import ReelCore

/// Claiming: the claimers take free slots, claim into them and hand the jobs to the pool.
extension QueueWorker {
    /// Between claims while claiming fails: the database is away or restarting. The wait also
    /// ends on a wake-up (the listener signals one when it reconnects), so the schedule only
    /// bounds how long a claimer waits without one.
    static let claimRetry = Backoff(base: .milliseconds(200), cap: .seconds(5), jitter: .none)

    /// Runs the claimers and starts the jobs they claim. Jobs are children of the pool's group
    /// (`jobs`), which only this task can add to: the claimers hand their batches over.
    func claimLoop(jobs: inout DiscardingTaskGroup) async {
        let (batches, handOver) = AsyncStream.makeStream(of: [(job: ClaimedJob, box: ProgressBox)].self)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withTaskGroup(of: Void.self) { claimers in
                    for index in 0..<self.configuration.claimers {
                        claimers.addTask { await self.claimer(index, handOver: handOver) }
                    }
                }
                // No claim is in flight from here on: a job submitted now stays queued for
                // another node (the shutdown tests wait for this line).
                self.logger.debug("Claiming stopped")
                handOver.finish()
            }
            for await claimed in batches {
                for (job, box) in claimed {
                    jobs.addTask { await self.execute(job, box: box) }
                }
            }
        }
    }

    /// One chain of claims: takes free slots, claims into them, hands the jobs over.
    func claimer(_ index: Int, handOver: AsyncStream<[(job: ClaimedJob, box: ProgressBox)]>.Continuation) async {
        var failures = 0
        let liveness = configuration.livenessInterval
        let heartbeat = claimerHeartbeats[index]
        while !isStopping {
            heartbeat.beat()
            if state.withLock({ $0.claimsStopped != nil }) {
                // Still alive (the watchdog keeps being pinged): only the claims have stopped.
                await workAvailable.wait(timeout: liveness)
                continue
            }
            guard case .claim(let gatherFirst) = state.withLock({ $0.slots.nextStep(forClaimer: index) }) else {
                await slotFreed.wait(timeout: min(configuration.pollInterval, liveness))
                continue
            }
            if gatherFirst {
                await gatherSlots()
            }
            let limit = state.withLock { $0.slots.reserve() }
            guard limit > 0 else { continue }
            let claimed: [ClaimedJob]
            do {
                claimed = try await queue.claim(owner: configuration.owner, limit: limit, lease: configuration.lease)
                failures = 0
            } catch {
                state.withLock { $0.slots.claimFailed(limit: limit) }
                failures += 1
                logger.error("Claim failed", metadata: ["error": "\(error)", "failures": "\(failures)"])
                await workAvailable.wait(timeout: min(Self.claimRetry.delay(afterAttempt: failures), liveness), clock: queue.clock)
                continue
            }
            // Each job's box is made here, under the lock that registers it, and handed over with it.
            let started = state.withLock { state in
                let started = claimed.map { (job: $0, box: ProgressBox(lease: $0.lease)) }
                state.slots.claimReturned(
                    started.map { .init(id: $0.job.lease, limited: $0.job.userID != nil, handle: $0.box) }, limit: limit)
                state.stats.claimed += claimed.count
                return started
            }
            if started.isEmpty {
                await workAvailable.wait(timeout: min(await idleWait(), liveness))
                continue
            }
            handOver.yield(started)
        }
    }

    /// With a backlog, a claim as soon as one slot frees would take a handful of jobs and pay a
    /// claim's fixed cost (the fair claim's lanes and providers, the round trip) for each
    /// handful: wait a moment (`gatherWindow`) for `WorkerSlots.gatherTarget` free slots first.
    /// Without a backlog, a freed slot claims at once, so pickup latency on a quiet queue is
    /// unchanged.
    func gatherSlots() async {
        let deadline = ContinuousClock.now + Self.gatherWindow
        while !isStopping, state.withLock({ $0.slots.free < $0.slots.gatherTarget }) {
            let left = deadline - .now
            guard left > .zero else { break }
            await slotFreed.wait(timeout: left)
        }
    }

    static let gatherWindow = Duration.milliseconds(4)

    /// How long to wait for a NOTIFY after a claim found nothing: the poll interval, or less when
    /// work held back by a rate limit, a throttle or a schedule becomes claimable sooner (nothing
    /// announces that moment).
    func idleWait() async -> Duration {
        let local = localDueWait()
        guard let next = try? await queue.nextClaimAt() else { return min(configuration.pollInterval, local) }
        let wait = Duration.milliseconds(Int64((next.timeIntervalSinceNow * 1000).rounded(.up)) + 5)
        return min(configuration.pollInterval, local, max(wait, .milliseconds(5)))
    }

    /// How long until the next retry or snooze this node scheduled falls due (a little after, so
    /// that the claim finds it due); forgets it once that moment has passed, since the claim
    /// that follows has then seen it. Only the earliest is kept: one due after it is found by a
    /// later claim or, at worst, by the fallback poll.
    func localDueWait() -> Duration {
        state.withLock { state in
            guard let due = state.nextLocalDue else { return configuration.pollInterval }
            let left = due - .now
            if left <= .zero {
                state.nextLocalDue = nil
                return .milliseconds(5)
            }
            return left + .milliseconds(5)
        }
    }
}
