import Foundation
import ReelDB
import ReelTestSupport
import Testing

@Suite struct MigratorTests {
    let migrator = Migrator(directory: TestDatabase.migrationsDirectory, logger: TestDatabase.logger)

    @Test func migratesAnEmptyDatabaseAndRecordsEachFile() throws {
        let url = try TestDatabase.makeEmptyDatabase()
        let report = try migrator.migrate(url: url)
        let files = try migrator.migrations()
        #expect(report.applied == files.map(\.name))
        try migrator.check(url: url)
        let again = try migrator.migrate(url: url)
        #expect(again.applied.isEmpty)
        #expect(again.alreadyApplied == files.count)
    }

    @Test func severalProcessesMigratingAtOnceApplyEachMigrationOnce() async throws {
        let url = try TestDatabase.makeEmptyDatabase()
        // Separate connections racing, as separate nodes would; the advisory lock serialises them.
        let reports = try await withThrowingTaskGroup(of: Migrator.Report.self) { group in
            for _ in 0..<4 {
                group.addTask { [migrator] in
                    try await Task.detachedBlocking { try migrator.migrate(url: url) }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let files = try migrator.migrations()
        #expect(reports.map(\.applied.count).reduce(0, +) == files.count)
        #expect(reports.filter { !$0.applied.isEmpty }.count == 1)
        let conn = try PostgresConnection(url: url)
        #expect(try conn.query("select count(*) as n from reeld.schema_migrations")[0].int("n") == files.count)
    }

    @Test func refusesWhenAnAppliedMigrationWasEdited() throws {
        let url = try TestDatabase.makeEmptyDatabase()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mig-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "create table t1 (id int);".write(to: directory.appendingPathComponent("0001_one.sql"), atomically: true, encoding: .utf8)
        let local = Migrator(directory: directory, logger: TestDatabase.logger)
        try local.migrate(url: url)
        try "create table t1 (id bigint);".write(to: directory.appendingPathComponent("0001_one.sql"), atomically: true, encoding: .utf8)
        #expect(throws: MigrationError.self) { try local.migrate(url: url) }
        #expect(throws: MigrationError.self) { try local.check(url: url) }
    }

    @Test func checkRefusesPendingMigrations() throws {
        let url = try TestDatabase.makeEmptyDatabase()
        #expect(throws: MigrationError.self) { try migrator.check(url: url) }
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
