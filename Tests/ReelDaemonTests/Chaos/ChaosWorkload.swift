import Foundation
import ReelCore
import ReelDB
import ReelTestSupport

/// The jobs of a chaos run, drawn from its seed: a mix of kinds that end at once (system.noop),
/// soon (short sleeps) and after a while (sleeps of up to 1.5 s, which kills interrupt),
/// and local-provider images, which reserve and capture credits and leave side effects (a
/// generation, an asset, a usage line) that a handler completing twice would duplicate. Most
/// belong to users of every tier, some to no one (system jobs).
struct ChaosWorkload {
    /// Users by tier, each with a project for its images.
    let users: [(id: UUID, project: UUID)]
    private(set) var submitted = 0
    /// Statements of this client that PostgreSQL aborted for a deadlock, and that it ran again.
    var deadlocks = 0

    /// The tables beyond what `ReeldProcess.Settings` writes: a sleep costs credits, and the
    /// tiers' and the local provider's limits bind a little (a leaked running count would hold
    /// a lane or the provider back for good) without slowing the run.
    static let limitsConfig: String = {
        var text = "[costs.\"system.sleep\"]\nestimate = 3\n[providers.limits.local]\nconcurrent = 6\n"
        for (tier, concurrent) in [("free", 4), ("pro", 8), ("enterprise", 16)] {
            let classes = ["text_image", "video", "audio", "render"]
            text += "[tiers.\(tier)]\n"
            text += "concurrent = { " + classes.map { "\($0) = \(concurrent)" }.joined(separator: ", ") + " }\n"
            text += "per_minute = { " + classes.map { "\($0) = 100000" }.joined(separator: ", ") + " }\n"
        }
        return text
    }()

    /// Makes two users per tier, each with credits and a project.
    static func makeUsers(_ database: Database) async throws -> ChaosWorkload {
        var users: [(UUID, UUID)] = []
        for tier in Tier.allCases {
            for n in 1...2 {
                let id = try await database.query(
                    "insert into auth.users (email) values ($1) returning id", ["chaos-\(tier.rawValue)-\(n)@test"])[0].uuid("id")
                try await database.query(
                    """
                    insert into subscriptions (user_id, tier) values ($1::uuid, $2::public.tier)
                    on conflict (user_id) do update set tier = excluded.tier
                    """, [id, tier.rawValue])
                try await database.query(
                    "select reeld.credit_purchase($1::uuid, 10000000, null, 'chaos')", [id])
                let project = try await database.query(
                    "insert into public.projects (user_id, title) values ($1::uuid, 'chaos') returning id", [id])[0].uuid("id")
                users.append((id, project))
            }
        }
        return ChaosWorkload(users: users)
    }

    /// How long a wave's sleeps last.
    enum Pace {
        /// Mostly at once, some for up to 1.5 s.
        case mixed
        /// Long enough that the nodes still have a backlog a few seconds later.
        case backlog
    }

    /// Submits `count` more jobs in one statement per few hundred; returns how many were new.
    /// Each job has an idempotency key, so a wave retried after a lost connection adds none twice.
    mutating func submit(_ count: Int, pace: Pace, rng: inout SeededRandom, database: Database) async throws -> Int {
        var created = 0
        var left = count
        while left > 0 {
            let chunk = min(left, 400)
            var jobs: [JSONValue] = []
            for _ in 0..<chunk {
                submitted += 1
                jobs.append(job(number: submitted, pace: pace, rng: &rng))
            }
            // Each submit locks its job's lane (the insert trigger) until the statement commits:
            // in lane key order, as every statement that holds several lanes takes them, or it
            // deadlocks with a node starting, which locks every lane (reeld.apply_settings).
            jobs.sort { Self.laneKey($0) < Self.laneKey($1) }
            created += try await Self.retryingDeadlocks(&deadlocks) {
                try await database.query(Self.submitSQL, [JSONValue.array(jobs)])[0].int("created")
            }
            left -= chunk
        }
        return created
    }

    /// Runs `body` again when PostgreSQL aborts it for a deadlock (40P01), as a client should.
    /// A batch of submits holds its lanes until it commits, in key order; a rescue that makes
    /// several users' jobs claimable at once locks their lanes in the order of its jobs (the
    /// lane_due trigger), so the two can close a cycle, and either may be the one aborted.
    static func retryingDeadlocks<T>(_ deadlocks: inout Int, _ body: () async throws -> T) async throws -> T {
        while true {
            do {
                return try await body()
            } catch let error as DatabaseError where error.sqlState == "40P01" && deadlocks < 50 {
                deadlocks += 1
            }
        }
    }

    /// A job's lane as `reeld.lanes` orders its key (uuid order is the order of its lowercase
    /// text; the classes differ in their first letter); system jobs have none and come first.
    static func laneKey(_ job: JSONValue) -> String {
        guard let user = job["user_id"]?.stringValue else { return "" }
        let jobClass = job["kind"]?.stringValue == "image.generate" ? "text_image" : job["args"]?["class"]?.stringValue ?? "none"
        return user + " " + jobClass
    }

    /// $1 `[{kind, args, user_id, project_id, key}]`, submitted in the array's order. Up to 20 attempts: no job should fail for
    /// being rescued too often, so every job ends completed unless it was cancelled.
    static let submitSQL = """
        select count(*) filter (where (s.r).created)::int as created from (
            select reeld.submit_job(x.kind, x.args, x.user_id, x.project_id, x.key, 100, null, 20) as r
            from jsonb_to_recordset($1::jsonb) as x(kind text, args jsonb, user_id uuid, project_id uuid, key text)
        ) s
        """

    private func job(number: Int, pace: Pace, rng: inout SeededRandom) -> JSONValue {
        let user = rng.chance(0.75) ? users.randomElement(using: &rng) : nil
        var entry: [String: JSONValue] = ["key": .string("chaos-\(number)")]
        if let user { entry["user_id"] = .string(user.id.lowercasedText) }
        let classes = ["none", "text_image", "video", "audio", "render"]
        let draw = Double.random(in: 0..<1, using: &rng)
        switch (pace, draw) {
        case (_, ..<0.05) where user != nil:
            entry["kind"] = "image.generate"
            entry["project_id"] = .string(user!.project.lowercasedText)
            entry["args"] = ["prompt": .string("chaos \(number)"), "width": 32, "height": 32]
        case (.mixed, ..<0.55):
            entry["kind"] = "system.noop"
            entry["args"] = ["class": .string(classes.randomElement(using: &rng)!)]
        case (.mixed, ..<0.9):
            entry["kind"] = "system.sleep"
            entry["args"] = ["seconds": .double(Double.random(in: 0.02...0.3, using: &rng)), "class": .string(classes.randomElement(using: &rng)!)]
        case (.mixed, _):
            entry["kind"] = "system.sleep"
            entry["args"] = ["seconds": .double(Double.random(in: 0.5...1.5, using: &rng)), "class": .string(classes.randomElement(using: &rng)!)]
        case (.backlog, ..<0.2):
            entry["kind"] = "system.noop"
            entry["args"] = ["class": "none"]
        case (.backlog, _):
            entry["kind"] = "system.sleep"
            entry["args"] = ["seconds": .double(Double.random(in: 0.2...0.6, using: &rng)), "class": "none"]
        }
        return .object(entry)
    }
}
