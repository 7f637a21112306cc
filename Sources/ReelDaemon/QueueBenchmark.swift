import Foundation
import Logging
import ReelCore
import ReelDB
import ReelQueue
import Synchronization

/// `reeld bench queue`: drain throughput of no-op jobs and pickup latency on an idle queue,
/// against a real PostgreSQL (a throwaway cluster unless a URL is given).
public struct QueueBenchmark: Sendable {
    public var jobs: Int
    public var workers: Int
    public var batch: Int
    public var latencySamples: Int

    public init(jobs: Int, workers: Int, batch: Int, latencySamples: Int) {
        self.jobs = jobs
        self.workers = workers
        self.batch = batch
        self.latencySamples = latencySamples
    }

    /// Runs both measurements and prints the figures.
    public func run(url: String, logger: Logger) async throws {
        let database = Database(configuration: .init(url: url, maxConnections: 6), logger: logger)
        defer { database.close() }
        try await database.query("truncate public.jobs cascade")
        let queue = JobQueue(database: database)
        let (starts, startsContinuation) = AsyncStream.makeStream(of: (UUID, ContinuousClock.Instant).self)
        let measuringLatency = Atomic<Bool>(false)
        var handlers = HandlerRegistry()
        handlers.register(.noop, ClosureHandler { _, _ in .completed(.null) })
        let worker = QueueWorker(
            queue: queue, handlers: handlers,
            configuration: .init(owner: "bench:\(getpid())", workers: workers, claimBatch: batch),
            listenURL: url, logger: logger,
            onStart: { id in
                if measuringLatency.load(ordering: .relaxed) { startsContinuation.yield((id, .now)) }
            })

        // Enqueue: one statement, outside the measurement (the benchmark is about draining).
        let enqueueStart = ContinuousClock.now
        try await database.query(
            "insert into public.jobs (kind, max_attempts) select 'system.noop', 3 from generate_series(1, $1::int)", [jobs])
        let enqueueTime = ContinuousClock.now - enqueueStart
        // A bulk load is exactly when statistics are stale; autovacuum would catch up within
        // seconds, the benchmark should not measure that.
        try await database.query("analyze public.jobs")
        print("queue benchmark: \(jobs) no-op jobs, \(workers) workers, claim batch \(batch)")
        print(String(format: "  enqueue            %8.0f jobs/s (one INSERT … SELECT, not part of the drain figure)",
                     Double(jobs) / enqueueTime.seconds))

        try await withThrowingTaskGroup(of: Void.self) { group in
            let drainStart = ContinuousClock.now
            group.addTask { try await worker.run() }
            while worker.stats.completed < jobs {
                try await Task.sleep(for: .milliseconds(5))
            }
            let drain = ContinuousClock.now - drainStart
            print(String(format: "  drain              %8.0f jobs/s (%.2f s for %d jobs)", Double(jobs) / drain.seconds, drain.seconds, jobs))

            // Pickup latency: the queue is idle and the worker waits on LISTEN; one job at a time.
            measuringLatency.store(true, ordering: .relaxed)
            var iterator = starts.makeAsyncIterator()
            var samples: [Double] = []
            try await Task.sleep(for: .milliseconds(200))
            for _ in 0..<latencySamples {
                let submitted = ContinuousClock.now
                let id = try await queue.submit(JobSubmission(kind: .noop)).jobID
                while let (started, at) = await iterator.next() {
                    if started == id {
                        samples.append((at - submitted).seconds * 1000)
                        break
                    }
                }
                try await Task.sleep(for: .milliseconds(10))
            }
            samples.sort()
            let p = { (q: Double) in samples[min(samples.count - 1, Int(Double(samples.count) * q))] }
            print(String(format: "  pickup latency     p50 %.2f ms   p99 %.2f ms   max %.2f ms  (%d samples, insert → handler start)",
                         p(0.5), p(0.99), samples.last ?? 0, samples.count))
            group.cancelAll()
        }
        startsContinuation.finish()
    }
}
