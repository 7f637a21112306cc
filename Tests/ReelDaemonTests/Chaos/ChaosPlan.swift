import Foundation

/// The numbers of a chaos run. The suite's run is small enough for a loaded two-core machine
/// (well under two minutes); `scripts/chaos` sets the environment for a longer one:
///
/// - `REELD_CHAOS_SEED`: the seed of the jobs, the kills and the waits (random when unset; every
///   run prints it, so a failure can be replayed with the same schedule).
/// - `REELD_CHAOS_JOBS`: how many jobs are submitted, in waves (default 2,400).
/// - `REELD_CHAOS_EVENTS`: how many times a node is killed (SIGKILL) or stopped (SIGTERM) and
///   started again, half before and half after the database's restart (default 8).
/// - `REELD_CHAOS_KEEP`: keeps the run's directory (nodes' logs, the database and its log).
struct ChaosPlan: CustomStringConvertible {
    var seed: UInt64
    var jobs: Int
    var events: Int
    var nodes = 3
    /// Short leases, so that rescues and the locked row play out within seconds; long enough that
    /// a restart of the database (down for at most about 1.5 s) never lets a live node's lease lapse.
    var leaseSeconds = 4
    var heartbeatSeconds = 1
    var rescueIntervalSeconds = 1
    var shutdownGraceSeconds = 2
    var workers = 8
    /// How long the test holds a running job's row locked: longer than a lease.
    var lockHold: Duration { .seconds(leaseSeconds + 2) }
    /// How long the database stays down between its stop and its start.
    var downtime: ClosedRange<Double> = 0.3...1.2
    /// Each node must claim work again within this long after the database came back.
    var backAtWorkBound = 5.0

    static func fromEnvironment() -> ChaosPlan {
        let environment = ProcessInfo.processInfo.environment
        let seed = environment["REELD_CHAOS_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 0...UInt64(UInt32.max))
        let jobs = environment["REELD_CHAOS_JOBS"].flatMap { Int($0) } ?? 2_400
        let events = environment["REELD_CHAOS_EVENTS"].flatMap { Int($0) } ?? 8
        return ChaosPlan(seed: seed, jobs: max(100, jobs), events: max(2, events))
    }

    var description: String {
        "seed \(seed) (replay with REELD_CHAOS_SEED=\(seed)), \(jobs) jobs, \(events) kills and stops, \(nodes) nodes, lease \(leaseSeconds) s"
    }
}
