import Foundation
import ReelDB
import ReelTestSupport
import Synchronization
import Testing

@Suite struct MigratorTests {
    let migrator = Migrator(directory: TestDatabase.migrationsDirectory, logger: TestDatabase.logger)

    @Test func migratesAnEmptyDatabaseAndRecordsEachFile() throws {
        let url = try TestDatabase.makeEmptyDatabase()
        let report = try migrator.migrate(url: url)
        let files = try migrator.migrations()
        let functions = try migrator.functionFiles()
        #expect(report.applied == files.map(\.name))
        #expect(report.functionsApplied == functions.map(\.name))
        #expect(!functions.isEmpty)
        try migrator.check(url: url)
        let again = try migrator.migrate(url: url)
        #expect(again.applied.isEmpty)
        #expect(again.functionsApplied.isEmpty)
        #expect(again.alreadyApplied == files.count)
    }

    @Test func severalProcessesMigratingAtOnceApplyEachMigrationOnce() async throws {
        let url = try TestDatabase.makeEmptyDatabase()
        let reports = try await migrateAtOnce(4, url: url) { migrator }
        let files = try migrator.migrations()
        let functions = try migrator.functionFiles()
        #expect(reports.map(\.applied.count).reduce(0, +) == files.count)
        #expect(reports.filter { !$0.applied.isEmpty }.count == 1)
        #expect(reports.map(\.functionsApplied.count).reduce(0, +) == functions.count)
        let conn = try PostgresConnection(url: url)
        #expect(try conn.query("select count(*) as n from reeld.schema_migrations")[0].int("n") == files.count)
        #expect(try conn.query("select count(*) as n from reeld.schema_functions")[0].int("n") == functions.count)
    }

    @Test func refusesWhenAnAppliedMigrationWasEdited() throws {
        let url = try TestDatabase.makeEmptyDatabase()
        let directory = try Self.makeDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.write("create table t1 (id int);", directory, "0001_one.sql")
        let local = Migrator(directory: directory, logger: TestDatabase.logger)
        try local.migrate(url: url)
        try Self.write("create table t1 (id bigint);", directory, "0001_one.sql")
        #expect(throws: MigrationError.self) { try local.migrate(url: url) }
        #expect(throws: MigrationError.self) { try local.check(url: url) }
    }

    /// A migration may run as long as its work takes (an index built concurrently on a large
    /// jobs table takes minutes): the connection's 60 s statement timeout, meant for the
    /// queue's statements, does not apply to it. Only waiting for a lock is bounded.
    @Test func aMigrationRunsWithoutTheStatementTimeout() throws {
        let url = try TestDatabase.makeEmptyDatabase()
        let directory = try Self.makeDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.write("create table seen as select current_setting('statement_timeout') as value;", directory, "0001_one.sql")
        try Self.write("""
            -- reeld: no-transaction
            insert into seen select current_setting('statement_timeout');
            """, directory, "0002_two.sql")
        try Migrator(directory: directory, logger: TestDatabase.logger).migrate(url: url)
        let seen = try PostgresConnection(url: url).query("select value from seen").map { try $0.string("value") }
        #expect(seen == ["0", "0"])
    }

    /// A migration that needs a lock a long transaction holds fails after the lock timeout,
    /// naming itself, instead of waiting with every claim queued behind its lock request.
    @Test func aMigrationWaitingForALockGivesUpAfterTheLockTimeout() throws {
        let url = try TestDatabase.makeEmptyDatabase()
        let directory = try Self.makeDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.write("create table t1 (id int);", directory, "0001_one.sql")
        let local = Migrator(directory: directory, logger: TestDatabase.logger, lockTimeout: .milliseconds(300))
        try local.migrate(url: url)
        let reader = try PostgresConnection(url: url)
        try reader.execute("begin; select * from t1;")
        try Self.write("alter table t1 add column name text;", directory, "0002_two.sql")
        #expect { try local.migrate(url: url) } throws: { error in
            "\(error)".contains("0002_two.sql") && "\(error)".contains("lock timeout")
        }
        try reader.execute("rollback")
        try local.migrate(url: url)
        try local.check(url: url)
    }

    /// An index on `jobs` is built with `create index concurrently` in a file marked
    /// `-- reeld: no-transaction`: while the build waits for a transaction that writes to jobs,
    /// other inserts into jobs go on. (A plain `create index` would queue every insert and
    /// claim behind its lock request; inside a transaction PostgreSQL refuses `concurrently`.)
    @Test func aNoTransactionMigrationBuildsAnIndexOnJobsWhileInsertsGoOn() async throws {
        let url = try TestDatabase.makeEmptyDatabase()
        try migrator.migrate(url: url)
        let directory = try Self.makeDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let copy = directory.appendingPathComponent("migrations")
        try FileManager.default.copyItem(at: TestDatabase.migrationsDirectory, to: copy)
        let next = try #require(try migrator.migrations().last).version + 1
        let name = String(format: "%04d_jobs_test_index.sql", next)
        try Self.write("""
            -- reeld: no-transaction
            -- Built without locking jobs for writes.
            create index concurrently if not exists jobs_test_kind_idx on public.jobs (kind, created_at);
            """, copy, name)
        // Generous: under a full, parallel test run the build may wait behind other work on jobs
        // (autovacuum) before it reaches the writer.
        let local = Migrator(directory: copy, logger: TestDatabase.logger, lockTimeout: .seconds(120))
        #expect(try local.migrations().last?.runsOutsideTransaction == true)
        #expect(try local.migrations().first?.runsOutsideTransaction == false)

        // A writer in an open transaction: the index build waits for it to end.
        let writer = try PostgresConnection(url: url)
        try writer.execute("begin; insert into public.jobs (kind, max_attempts) values ('system.noop', 3)")
        let observer = try PostgresConnection(url: url)
        // Read by the wait below, so that a migration that fails at once says why.
        let outcome = MigrationOutcome()
        Thread { outcome.set(Result { try local.migrate(url: url) }) }.start()
        let diagnosis = {
            ((try? observer.query("""
                select pid, backend_type, state, wait_event_type, wait_event, left(query, 80) as q from pg_stat_activity
                where datname = current_database()
                """).map { row in (try? row.string("q")) ?? "" }) ?? []).joined(separator: " | ")
        }
        try await Poll.until("the index build to wait for the open writer", timeout: .seconds(120), context: diagnosis) {
            if case .failure(let error)? = outcome.value { throw ChildProcess.Failure("\(error); activity: \(diagnosis())") }
            // PostgreSQL's own report of the build: its first wait is for the transactions
            // that write to jobs (the open writer).
            return try observer.query("""
                select count(*) as n from pg_stat_progress_create_index
                where datname = current_database() and relid = 'public.jobs'::regclass and phase like 'waiting for%'
                """)[0].int("n") == 1
        }
        // Meanwhile another insert into jobs goes through at once.
        let inserter = try PostgresConnection(url: url)
        try inserter.execute("set statement_timeout = '5s'")
        try inserter.execute("insert into public.jobs (kind, max_attempts) values ('system.noop', 3)")
        try writer.execute("commit")
        try await Poll.until("the migration to end", timeout: .seconds(60)) { outcome.value != nil }
        let report = try #require(try outcome.value?.get())
        #expect(report.applied == [name])
        let index = try observer.query("""
            select i.indisvalid as valid from pg_index i join pg_class c on c.oid = i.indexrelid where c.relname = 'jobs_test_kind_idx'
            """)
        #expect(try index.first?.bool("valid") == true)
        #expect(try observer.query("select count(*) as n from public.jobs")[0].int("n") == 2)
        try local.check(url: url)
    }

    @Test func checkRefusesPendingMigrations() throws {
        let url = try TestDatabase.makeEmptyDatabase()
        #expect(throws: MigrationError.self) { try migrator.check(url: url) }
    }

    // MARK: Function files

    @Test func changedFunctionFileIsReappliedOnceWhenSeveralMigrateAtOnce() async throws {
        let url = try TestDatabase.makeEmptyDatabase()
        let directory = try Self.makeFunctionsFixture()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Migrator(directory: directory, logger: TestDatabase.logger).migrate(url: url)
        // The new version sleeps while it applies, so that racing migrators would overlap
        // without the lock; each application leaves a row in applications.
        try Self.write(Self.functionFile(version: 2, sleep: 0.3), directory.appendingPathComponent("functions"), "f.sql")

        // Separate Migrators on separate connections and threads, as separate nodes would be.
        let reports = try await migrateAtOnce(4, url: url) { Migrator(directory: directory, logger: TestDatabase.logger) }
        #expect(reports.map(\.functionsApplied).filter { !$0.isEmpty } == [["f.sql"]])
        let conn = try PostgresConnection(url: url)
        #expect(try Self.applications(conn) == ["f.sql v1", "g.sql v1", "f.sql v2"])
        #expect(try conn.query("select f() as v")[0].int("v") == 2)
        let versions = try conn.query("select count(*) as n, count(*) filter (where superseded_at is null) as current from reeld.schema_functions where name = 'f.sql'")[0]
        #expect(try versions.int("n") == 2)
        #expect(try versions.int("current") == 1)
        try Migrator(directory: directory, logger: TestDatabase.logger).check(url: url)
    }

    @Test func unchangedFunctionFilesAreNotReapplied() throws {
        let url = try TestDatabase.makeEmptyDatabase()
        let directory = try Self.makeFunctionsFixture()
        defer { try? FileManager.default.removeItem(at: directory) }
        let local = Migrator(directory: directory, logger: TestDatabase.logger)
        #expect(try local.migrate(url: url).functionsApplied == ["f.sql", "g.sql"])
        #expect(try local.migrate(url: url).functionsApplied.isEmpty)
        // Another file changing re-applies that file only.
        try Self.write(Self.functionFile(version: 2), directory.appendingPathComponent("functions"), "f.sql")
        #expect(try local.migrate(url: url).functionsApplied == ["f.sql"])
        let conn = try PostgresConnection(url: url)
        #expect(try Self.applications(conn) == ["f.sql v1", "g.sql v1", "f.sql v2"])
    }

    @Test func checkRefusesFunctionsThatDifferAndSaysWhichSideIsBehind() throws {
        let url = try TestDatabase.makeEmptyDatabase()
        let directory = try Self.makeFunctionsFixture()
        defer { try? FileManager.default.removeItem(at: directory) }
        let functions = directory.appendingPathComponent("functions")
        let local = Migrator(directory: directory, logger: TestDatabase.logger)
        try local.migrate(url: url)

        // A newer binary: its f.sql is one the database has never applied.
        try Self.write(Self.functionFile(version: 2), functions, "f.sql")
        let pending = #expect(throws: MigrationError.self) { try local.check(url: url) }
        #expect(pending?.description.contains("functions/f.sql") == true)
        #expect(pending?.description.contains("run `reeld migrate`") == true)
        try local.migrate(url: url)
        try local.check(url: url)

        // An older binary: its f.sql is the version the database replaced. Neither check nor
        // migrate lets it run, and migrate does not put the old body back.
        try Self.write(Self.functionFile(version: 1), functions, "f.sql")
        let older = #expect(throws: MigrationError.self) { try local.check(url: url) }
        #expect(older?.description.contains("newer than this reeld") == true)
        #expect(throws: MigrationError.self) { try local.migrate(url: url) }
        let conn = try PostgresConnection(url: url)
        #expect(try conn.query("select f() as v")[0].int("v") == 2)
        #expect(try Self.applications(conn) == ["f.sql v1", "g.sql v1", "f.sql v2"])

        // An older binary that does not know a function the database has.
        try Self.write(Self.functionFile(version: 2), functions, "f.sql")
        try FileManager.default.removeItem(at: functions.appendingPathComponent("g.sql"))
        let unknown = #expect(throws: MigrationError.self) { try local.check(url: url) }
        #expect(unknown?.description.contains("functions/g.sql, which this reeld does not ship") == true)
    }

    @Test func preBaselineDatabaseIsRefusedWithWhatToDo() throws {
        let url = try TestDatabase.makeEmptyDatabase()
        // What the migrations before the baseline left: schema_migrations as the migrator then
        // wrote it, and no schema_functions.
        let conn = try PostgresConnection(url: url)
        try conn.execute("""
            create schema reeld;
            create table reeld.schema_migrations (version int primary key, name text not null, checksum text not null,
                                                  applied_at timestamptz not null default now());
            insert into reeld.schema_migrations (version, name, checksum) values
                (1, '0001_auth.sql', 'a'), (16, '0016_claim_locks_the_lanes_it_serves.sql', 'b');
            """)
        let migrating = #expect(throws: MigrationError.self) { try migrator.migrate(url: url) }
        let checking = #expect(throws: MigrationError.self) { try migrator.check(url: url) }
        for error in [migrating, checking] {
            #expect(error?.description.contains("made by a pre-baseline reeld") == true)
            #expect(error?.description.contains("0016_claim_locks_the_lanes_it_serves.sql") == true)
            #expect(error?.description.contains("new, empty database") == true)
        }
        #expect(try conn.query("select to_regclass('reeld.schema_functions') is null as absent")[0].bool("absent"))
        #expect(try conn.query("select count(*) as n from reeld.schema_migrations")[0].int("n") == 2)
    }

    // MARK: Helpers

    /// Runs `count` migrators at once, each on its own thread and connection.
    private func migrateAtOnce(_ count: Int, url: String, _ make: @escaping @Sendable () -> Migrator) async throws -> [Migrator.Report] {
        try await withThrowingTaskGroup(of: Migrator.Report.self) { group in
            for _ in 0..<count {
                group.addTask { try await Task.detachedBlocking { try make().migrate(url: url) } }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
    }

    /// A migrations directory with one table and two function files, f.sql and g.sql.
    private static func makeFunctionsFixture() throws -> URL {
        let directory = try makeDirectory()
        try write("create table applications (n serial primary key, file text not null);", directory, "0001_one.sql")
        let functions = directory.appendingPathComponent("functions")
        try FileManager.default.createDirectory(at: functions, withIntermediateDirectories: true)
        try write(functionFile(version: 1), functions, "f.sql")
        try write("""
            create or replace function g() returns int language sql as $$ select 1 $$;
            insert into applications (file) values ('g.sql v1');
            """, functions, "g.sql")
        return directory
    }

    /// f.sql at a version: f() returns it, and applying the file records it.
    private static func functionFile(version: Int, sleep: Double = 0) -> String {
        """
        create or replace function f() returns int language sql as $$ select \(version) $$;
        select pg_sleep(\(sleep));
        insert into applications (file) values ('f.sql v\(version)');
        """
    }

    private static func applications(_ conn: PostgresConnection) throws -> [String] {
        try conn.query("select file from applications order by n").map { try $0.string("file") }
    }

    private static func makeDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mig-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    private static func write(_ text: String, _ directory: URL, _ name: String) throws {
        try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }
}

extension Task where Failure == any Error, Success: Sendable {
    /// Runs blocking work on its own thread so that racing migrators really run in parallel.
    static func detachedBlocking(_ body: @escaping @Sendable () throws -> Success) async throws -> Success {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }
}

/// How a migration run on a thread of its own ended, for the test that waits on it to read.
final class MigrationOutcome: Sendable {
    private let stored = Mutex<Result<Migrator.Report, any Error>?>(nil)
    var value: Result<Migrator.Report, any Error>? { stored.withLock { $0 } }
    func set(_ result: Result<Migrator.Report, any Error>) { stored.withLock { $0 = result } }
}
