import Foundation
import ReelCore
import ReelDB
import ReelQueue
import ReelTestSupport
import Testing

/// Deleting a project or a user cascades to their jobs: a job that had not ended must still
/// give back its reserve and, if it was running, its lane's and provider's slots.
extension CreditsTests {
    /// Video jobs on `kling`: one at a time per free user and one at a time on the provider,
    /// so that a slot lost for good shows as a claim that finds nothing.
    func applyOneSlotEach() async throws {
        var settings = QueueSettings(providerLimits: ["kling": .init(concurrent: 1)])
        settings.tiers[.free]?.monthlyCredits = 1000
        settings.tiers[.free]?.classes[.video] = .init(concurrent: 1, perMinute: 100_000)
        settings.costs.append(.init(kind: .sleep, estimate: 10, perUnit: [:]))
        try await queue.apply(settings)
    }

    func submitOnKling(user: UUID, project: UUID? = nil) async throws -> UUID {
        try await queue.submit(JobSubmission(
            kind: .sleep, args: ["seconds": 1, "class": "video", "provider": "kling"], userID: user, projectID: project)).jobID
    }

    /// Runs `sql` in a transaction as Supabase's `authenticated` role with `user`'s JWT.
    func asUser(_ user: UUID, _ sql: String, _ parameters: [any SQLParameter]) async throws {
        let claims = "{\"sub\":\"\(user.uuidString.lowercased())\",\"role\":\"authenticated\"}"
        try await database.transaction { conn in
            try conn.execute("set local role authenticated")
            try conn.query("select set_config('request.jwt.claims', $1, true)", [claims])
            try conn.query(sql, parameters)
        }
    }

    @Test func deletingAProjectWithLiveJobsReleasesTheirReservesAndFreesTheirSlots() async throws {
        try await applyOneSlotEach()
        let user = try await TestDatabase.makeUser(database)
        let doomed = try await TestDatabase.makeProject(database, user: user)
        let kept = try await TestDatabase.makeProject(database, user: user)
        let running = try await submitOnKling(user: user, project: doomed)
        let queued = try await submitOnKling(user: user, project: doomed)
        #expect(try await claimAll().map(\.id) == [running])
        let next = try await submitOnKling(user: user, project: kept)
        #expect(try await claimAll().isEmpty, "the user's one video slot is taken")

        // The owner deletes the project from the studio app, under row-level security.
        try await asUser(user, "delete from public.projects where id = $1::uuid", [doomed])

        #expect(try await database.query("select count(*) as n from jobs where project_id = $1::uuid", [doomed])[0].int("n") == 0)
        #expect(try await movements(running) == ["reserve": 10, "release": 10])
        #expect(try await movements(queued) == ["reserve": 10, "release": 10])
        let account = try #require(try await ledger.account(user: user))
        #expect(account.balance == 990 && account.reserved == 10, "only the kept project's job holds credits")
        try await expectLedgerBalances()
        // The deleted running job's slot on the user's lane and on the provider is free again.
        #expect(try await claimAll().map(\.id) == [next])
    }

    @Test func deletingAUserWithARunningJobFreesTheProvidersSlotForOtherUsers() async throws {
        try await applyOneSlotEach()
        let leaving = try await TestDatabase.makeUser(database)
        let staying = try await TestDatabase.makeUser(database)
        let gone = try await submitOnKling(user: leaving)
        #expect(try await claimAll().map(\.id) == [gone])
        let waiting = try await submitOnKling(user: staying)
        #expect(try await claimAll().isEmpty, "kling runs one job at a time")

        try await database.query("delete from auth.users where id = $1::uuid", [leaving])

        #expect(try await database.query("select count(*) as n from jobs where user_id = $1::uuid", [leaving])[0].int("n") == 0)
        #expect(try await claimAll().map(\.id) == [waiting])
        try await expectLedgerBalances()
    }
}
