import Foundation
import ReelCore

/// One row of `public.jobs` as an operator sees it: everything `reelctl show` prints and the
/// daemon's status endpoints report. A snapshot; it does not follow the job.
public struct JobRecord: Sendable, Hashable, Encodable {
    /// One failed attempt, from the job's `errors` history (oldest first).
    public struct AttemptError: Sendable, Hashable, Encodable {
        public var attempt: Int
        /// When the attempt failed; nil only if the entry was written without a time.
        public var at: Date?
        /// `transient`, `permanent` or `throttled` (`FailureClass`); kept as text so an entry
        /// written by a newer node still reads.
        public var failureClass: String
        public var error: String
        public var detail: JSONValue?

        public init(attempt: Int, at: Date?, failureClass: String, error: String, detail: JSONValue?) {
            self.attempt = attempt
            self.at = at
            self.failureClass = failureClass
            self.error = error
            self.detail = detail
        }

        enum CodingKeys: String, CodingKey {
            case attempt, at, failureClass = "class", error, detail
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(attempt, forKey: .attempt)
            try c.encode(at, forKey: .at)
            try c.encode(failureClass, forKey: .failureClass)
            try c.encode(error, forKey: .error)
            try c.encode(detail, forKey: .detail)
        }
    }

    public var id: UUID
    public var kind: JobKind
    public var state: JobState
    public var userID: UUID?
    public var projectID: UUID?
    public var parentID: UUID?
    public var args: JSONValue
    public var result: JSONValue?
    public var idempotencyKey: String?
    public var priority: Int
    public var attempt: Int
    public var maxAttempts: Int
    public var runAt: Date
    public var leaseOwner: String?
    public var leaseExpiresAt: Date?
    /// A running job an operator asked to stop; its worker stops at its next heartbeat.
    public var cancelRequested: Bool
    /// 0…1, as last reported by the worker's heartbeat.
    public var progress: Double
    public var errors: [AttemptError]
    public var createdAt: Date
    /// The start of the latest attempt.
    public var attemptedAt: Date?
    public var finishedAt: Date?

    public init(
        id: UUID, kind: JobKind, state: JobState, userID: UUID? = nil, projectID: UUID? = nil, parentID: UUID? = nil,
        args: JSONValue = [:], result: JSONValue? = nil, idempotencyKey: String? = nil, priority: Int = 100,
        attempt: Int = 0, maxAttempts: Int, runAt: Date, leaseOwner: String? = nil, leaseExpiresAt: Date? = nil,
        cancelRequested: Bool = false, progress: Double = 0, errors: [AttemptError] = [], createdAt: Date,
        attemptedAt: Date? = nil, finishedAt: Date? = nil
    ) {
        self.id = id
        self.kind = kind
        self.state = state
        self.userID = userID
        self.projectID = projectID
        self.parentID = parentID
        self.args = args
        self.result = result
        self.idempotencyKey = idempotencyKey
        self.priority = priority
        self.attempt = attempt
        self.maxAttempts = maxAttempts
        self.runAt = runAt
        self.leaseOwner = leaseOwner
        self.leaseExpiresAt = leaseExpiresAt
        self.cancelRequested = cancelRequested
        self.progress = progress
        self.errors = errors
        self.createdAt = createdAt
        self.attemptedAt = attemptedAt
        self.finishedAt = finishedAt
    }

    /// How long the latest attempt waited after it was due (`run_at`, or creation if later).
    /// Nil if the job never ran, or if a failure has since moved `run_at` past that attempt
    /// (the row no longer says when the attempt was due).
    public var queueWait: TimeInterval? {
        guard let attemptedAt, runAt <= attemptedAt else { return nil }
        return max(0, attemptedAt.timeIntervalSince(max(createdAt, runAt)))
    }

    /// How long the latest attempt ran: until `finishedAt`, or until `now` while it still runs.
    /// Nil if the job never ran, or is queued again after a failed attempt.
    public func runTime(now: Date) -> TimeInterval? {
        guard let attemptedAt else { return nil }
        if let finishedAt { return max(0, finishedAt.timeIntervalSince(attemptedAt)) }
        return state == .running ? max(0, now.timeIntervalSince(attemptedAt)) : nil
    }

    enum CodingKeys: String, CodingKey {
        case id, kind, state, userID = "user_id", projectID = "project_id", parentID = "parent_id", args, result
        case idempotencyKey = "idempotency_key", priority, attempt, maxAttempts = "max_attempts", runAt = "run_at"
        case leaseOwner = "lease_owner", leaseExpiresAt = "lease_expires_at", cancelRequested = "cancel_requested"
        case progress, errors, createdAt = "created_at", attemptedAt = "attempted_at", finishedAt = "finished_at"
    }

    /// The row's own column names, every key present (`null` when unset), ids in lowercase as
    /// PostgreSQL prints them, so scripts can compare them with `psql` output.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id.lowercasedText, forKey: .id)
        try c.encode(kind.rawValue, forKey: .kind)
        try c.encode(state, forKey: .state)
        try c.encode(userID?.lowercasedText, forKey: .userID)
        try c.encode(projectID?.lowercasedText, forKey: .projectID)
        try c.encode(parentID?.lowercasedText, forKey: .parentID)
        try c.encode(args, forKey: .args)
        try c.encode(result, forKey: .result)
        try c.encode(idempotencyKey, forKey: .idempotencyKey)
        try c.encode(priority, forKey: .priority)
        try c.encode(attempt, forKey: .attempt)
        try c.encode(maxAttempts, forKey: .maxAttempts)
        try c.encode(runAt, forKey: .runAt)
        try c.encode(leaseOwner, forKey: .leaseOwner)
        try c.encode(leaseExpiresAt, forKey: .leaseExpiresAt)
        try c.encode(cancelRequested, forKey: .cancelRequested)
        try c.encode(progress, forKey: .progress)
        try c.encode(errors, forKey: .errors)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(attemptedAt, forKey: .attemptedAt)
        try c.encode(finishedAt, forKey: .finishedAt)
    }
}
