import Foundation
import ReelCore
import ReelDB
import ReelTestSupport
import Testing

extension ProcessTests.ReelctlProcessTests {
    /// Runs the built `reelctl` with `arguments` and waits for it.
    func reelctl(_ arguments: [String], in directory: TemporaryDirectory, label: String) async throws -> CompletedRun {
        try await CompletedRun.of("reelctl", arguments, in: directory.url, label: label)
    }

    @Test func submitShowListCancelAndRetryWithSysexitsCodes() async throws {
        let directory = try TemporaryDirectory(prefix: "reelctl")
        defer { directory.remove() }
        let url = try TestDatabase.makeDatabase()
        let database = Database(configuration: .init(url: url, maxConnections: 1), logger: TestDatabase.logger)
        defer { database.close() }
        let file = directory.appending("job.json")
        try Data(#"{"kind": "system.sleep", "args": {"seconds": 1}, "idempotency_key": "ctl-1"}"#.utf8).write(to: file)

        let first = try await reelctl(["--database-url", url, "submit", file.path], in: directory, label: "submit-1")
        #expect(first.status == .exited(0), "\(first.errors)")
        let id = try #require(first.output.split(separator: " ").dropFirst().first.flatMap { UUID(text: $0) }, "\(first.output)")
        #expect(first.output.hasSuffix("created\n"))
        let again = try await reelctl(["--database-url", url, "submit", file.path], in: directory, label: "submit-2")
        #expect(again.status == .exited(0))
        #expect(again.output == "job \(id.lowercasedText) already existed (idempotency key ctl-1)\n")
        #expect(try await database.query("select count(*) as n from public.jobs")[0].int("n") == 1)

        let bad = directory.appending("bad.json")
        try Data(#"{"kind": "system.sleep", "args": {"seconds": "soon"}}"#.utf8).write(to: bad)
        let refused = try await reelctl(["--database-url", url, "submit", bad.path], in: directory, label: "submit-bad")
        #expect(refused.status == .exited(65))
        #expect(refused.errors.contains("$.args.seconds"), "\(refused.errors)")

        let shown = try await reelctl(["--database-url", url, "show", id.lowercasedText], in: directory, label: "show")
        #expect(shown.status == .exited(0))
        #expect(shown.output.contains("kind            system.sleep"))
        #expect(shown.output.contains("state           available"))
        let listed = try await reelctl(["--database-url", url, "list", "--state", "available"], in: directory, label: "list")
        #expect(listed.status == .exited(0))
        #expect(listed.output.contains(id.lowercasedText))

        let cancelled = try await reelctl(["--database-url", url, "cancel", id.lowercasedText], in: directory, label: "cancel")
        #expect(cancelled.output == "job \(id.lowercasedText) cancelled\n")
        let retried = try await reelctl(["--database-url", url, "retry", id.lowercasedText], in: directory, label: "retry")
        #expect(retried.output == "job \(id.lowercasedText) queued again\n")
        #expect(try await database.query("select state::text as s from public.jobs where id = $1::uuid", [id])[0].string("s") == "available")

        let missing = try await reelctl(["--database-url", url, "show", UUID().lowercasedText], in: directory, label: "missing")
        #expect(missing.status == .exited(66))
        let usage = try await reelctl(["--database-url", url, "show", "not-a-uuid"], in: directory, label: "usage")
        #expect(usage.status == .exited(64))
    }

    @Test func creditsShowsTheAccountAndRecordsPurchasesAndAdjustmentsOnce() async throws {
        let directory = try TemporaryDirectory(prefix: "reelctl-credits")
        defer { directory.remove() }
        let url = try TestDatabase.makeDatabase()
        let database = Database(configuration: .init(url: url, maxConnections: 1), logger: TestDatabase.logger)
        defer { database.close() }
        let user = try await database.query("insert into auth.users (email) values ('ada@example.com') returning id")[0].uuid("id")
        // A free user (1000 credits a month) whose image (estimate 10) is queued: 10 reserved.
        let project = try await TestDatabase.makeProject(database, user: user)
        try await database.query("select reeld.submit_job('image.generate', '{\"prompt\": \"a heron\"}', $1::uuid, $2::uuid)", [user, project])

        let bought = try await reelctl(
            ["--database-url", url, "credits", "ada@example.com", "--purchase", "500", "--reference", "pay-1", "--note", "card"],
            in: directory, label: "purchase")
        #expect(bought.status == .exited(0), "\(bought.errors)")
        #expect(bought.output.contains("balance         1490 credits"), "\(bought.output)")
        #expect(bought.output.contains("reserved        10 credits"), "\(bought.output)")
        let replayed = try await reelctl(
            ["--database-url", url, "credits", user.lowercasedText, "--purchase", "500", "--reference", "pay-1"],
            in: directory, label: "purchase-again")
        #expect(replayed.status == .exited(0))
        #expect(replayed.errors.contains("already recorded"), "\(replayed.errors)")
        #expect(replayed.output.contains("balance         1490 credits"), "\(replayed.output)")

        let tooMuch = try await reelctl(["--database-url", url, "credits", user.lowercasedText, "--adjust", "-5000"], in: directory, label: "adjust-refused")
        #expect(tooMuch.status == .exited(65))
        #expect(tooMuch.errors.contains("negative"), "\(tooMuch.errors)")
        let corrected = try await reelctl(
            ["--database-url", url, "credits", user.lowercasedText, "--adjust", "-90", "--json"], in: directory, label: "adjust")
        #expect(corrected.status == .exited(0), "\(corrected.errors)")
        guard case .object(let account) = try JSONValue(parsing: Array(corrected.output.utf8)),
              case .array(let movements)? = account["movements"] else {
            Issue.record("not an account: \(corrected.output)")
            return
        }
        #expect(account["balance"] == .int(1400))
        let kinds = movements.compactMap { movement -> String? in
            if case .object(let m) = movement, case .string(let kind)? = m["kind"] { return kind }
            return nil
        }
        #expect(kinds == ["adjustment", "purchase", "reserve", "grant"])

        let unknown = try await reelctl(["--database-url", url, "credits", "nobody@example.com"], in: directory, label: "unknown")
        #expect(unknown.status == .exited(66))
        let both = try await reelctl(["--database-url", url, "credits", "ada@example.com", "--purchase", "1", "--adjust", "1"], in: directory, label: "both")
        #expect(both.status == .exited(64))
        // Nothing the refused calls tried is in the ledger, and the balance is the ledger's sum.
        let sums = try await database.query(
            """
            select s.credits_balance as balance,
                   (select sum(case type when 'grant' then amount when 'purchase' then amount when 'adjustment' then amount
                                         when 'reserve' then -amount when 'release' then amount else 0 end)
                    from credit_transactions where user_id = $1::uuid) as ledger
            from subscriptions s where s.user_id = $1::uuid
            """, [user])[0]
        #expect(try sums.int("balance") == 1400)
        #expect(try sums.int("ledger") == 1400)
    }

    @Test func unreachableDatabaseExits69WithoutPrintingThePassword() async throws {
        let directory = try TemporaryDirectory(prefix: "reelctl-down")
        defer { directory.remove() }
        let run = try await reelctl(
            ["--database-url", "postgresql://reeld:hunter2secret@/reeld?host=\(directory.path)", "list"], in: directory, label: "down")
        #expect(run.status == .exited(69))
        #expect(run.errors.contains("database unreachable"))
        #expect(!run.errors.contains("hunter2secret") && !run.output.contains("hunter2secret"))
    }

    @Test func configFileGivesTheDatabaseTheDaemonUses() async throws {
        let directory = try TemporaryDirectory(prefix: "reelctl-config")
        defer { directory.remove() }
        let url = try TestDatabase.makeDatabase()
        let secret = directory.appending("database-url")
        try Data((url + "\n").utf8).write(to: secret)
        let config = directory.appending("reeld.toml")
        try Data("[database]\nurl_file = \"\(secret.path)\"\n".utf8).write(to: config)
        let file = directory.appending("job.json")
        try Data(#"{"kind": "system.noop", "idempotency_key": "ctl-config-1"}"#.utf8).write(to: file)

        let submitted = try await reelctl(["--config", config.path, "submit", file.path], in: directory, label: "submit")
        #expect(submitted.status == .exited(0))
        let listed = try await reelctl(["--config", config.path, "list", "--state", "available"], in: directory, label: "list")
        #expect(listed.status == .exited(0))
        #expect(listed.output.contains("system.noop"))

        let missing = try await reelctl(["--config", directory.appending("absent.toml").path, "list"], in: directory, label: "absent")
        #expect(missing.status == .exited(64))
        #expect(missing.errors.contains("absent.toml"))
    }
}
