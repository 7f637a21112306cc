import Foundation

/// A worker pool's slot accounting as a pure value: which jobs the node holds, how many
/// handlers run, how many slots the claims in flight may fill, and whether the queue has a
/// backlog. The worker keeps it in a `Mutex` and changes it only through these methods; each
/// answers what the worker should do next.
///
/// A job is held from its claim until its end is committed, so also while its completion waits
/// for the next group commit. `Key` names one attempt (its `JobLease`: a node may hold a job's
/// attempt that lost its lease beside the job's next one); `Handle` is what the worker keeps
/// per attempt (its progress box).
struct WorkerSlots<Key: Hashable & Sendable, Handle: Sendable>: Sendable {
    /// A held job.
    struct Held: Sendable {
        var handle: Handle
        /// A user's job: its end frees room under its lane's (and provider's) limits.
        var limited: Bool
    }

    /// A job a claim returned.
    struct Claimed: Sendable {
        var id: Key
        var limited: Bool
        var handle: Handle
    }

    /// What a claimer does next.
    enum ClaimStep: Equatable, Sendable {
        /// No slot is free, or this claimer only helps with a backlog and there is none: wait
        /// for a slot to free.
        case waitForSlot
        /// Claim; with a backlog, first wait a moment for `gatherTarget` free slots.
        case claim(gatherFirst: Bool)
    }

    /// What committing some jobs' ends changed.
    struct Committed: Equatable, Sendable {
        /// One of them was a user's job: room under the limits is free now, claim again.
        var freedLimitedRoom: Bool
        /// The node holds no job any more.
        var empty: Bool
    }

    let workers: Int
    let claimBatch: Int
    private(set) var held: [Key: Held] = [:]
    /// Jobs whose handler has not returned yet.
    private(set) var busy = 0
    /// Slots the claims in flight may fill.
    private(set) var reserved = 0
    /// The last claim came back (nearly) full: the queue has a backlog.
    private(set) var backlog = false

    init(workers: Int, claimBatch: Int) {
        self.workers = max(1, workers)
        self.claimBatch = max(1, claimBatch)
    }

    /// Slots a claim may fill: the free workers, but never more jobs in hand (running, or
    /// ended and waiting for their end to be committed) than twice the pool. A worker frees its
    /// slot as soon as its handler returns, so that the next job need not wait for a commit;
    /// without the second bound, claims that outran the commits would pile up ended jobs without
    /// limit, every heartbeat would carry them all, and leases could expire under jobs that had
    /// long finished.
    var free: Int {
        min(workers - busy - reserved, 2 * workers - held.count - reserved)
    }

    /// With a backlog, the free slots worth one claim: three quarters of a batch (or of the
    /// pool, when it is smaller than a batch).
    var gatherTarget: Int { min(claimBatch, workers) * 3 / 4 }

    /// What claimer `index` does next. Claimer 0 serves a quiet queue alone; the others join
    /// only while there is a backlog.
    func nextStep(forClaimer index: Int) -> ClaimStep {
        if free <= 0 || (index > 0 && !backlog) { return .waitForSlot }
        return .claim(gatherFirst: backlog)
    }

    /// Reserves slots for one claim and returns its limit; nothing is reserved when it is 0 or
    /// less. Taken in one step, so that claims in flight never count the same slots.
    mutating func reserve() -> Int {
        let limit = min(free, claimBatch)
        reserved += max(limit, 0)
        return limit
    }

    /// A claim with `limit` failed: its slots are free again.
    mutating func claimFailed(limit: Int) {
        reserved -= max(limit, 0)
    }

    /// A claim with `limit` returned `jobs`: they are held and busy from now.
    mutating func claimReturned(_ jobs: [Claimed], limit: Int) {
        reserved -= max(limit, 0)
        // Half a batch or more counts: the fair claim can come back a little short of a full
        // batch when the lanes it served had fewer jobs left than their turns.
        backlog = jobs.count > 1 && jobs.count >= limit / 2
        busy += jobs.count
        for job in jobs { held[job.id] = Held(handle: job.handle, limited: job.limited) }
    }

    /// A job's handler returned: its worker slot is free, the job is still held until its end
    /// is committed.
    mutating func handlerReturned() {
        busy -= 1
    }

    /// The ends of `ids` are committed: the node lets go of them. Ids it did not hold are ignored.
    mutating func committed(_ ids: some Sequence<Key>) -> Committed {
        var limited = false
        for id in ids where held.removeValue(forKey: id)?.limited == true { limited = true }
        return Committed(freedLimitedRoom: limited, empty: held.isEmpty)
    }

    /// The handle of a held job.
    func handle(_ id: Key) -> Handle? { held[id]?.handle }
}
