import Foundation
import Logging
import ReelDB
import ReelLocalCluster
import Synchronization

/// A real PostgreSQL for tests: one throwaway cluster per test process (started on first use,
/// in a temporary directory), a template database migrated once, and a fresh copy of the
/// template for each test so that tests never see each other's rows.
public enum TestDatabase {
    /// The repository's `Migrations/` directory.
    public static let migrationsDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Migrations")

    public static let logger: Logger = {
        var logger = Logger(label: "reeld.tests")
        logger.logLevel = ProcessInfo.processInfo.environment["REELD_TEST_LOG"].flatMap { Logger.Level(rawValue: $0) } ?? .critical
        return logger
    }()

    private static let cluster: Result<LocalCluster, any Error> = {
        let directory = URL(fileURLWithPath: ProcessInfo.processInfo.environment["REELD_TEST_PGDIR"] ?? "/tmp/reeld-tests-\(getpid())")
        let cluster = LocalCluster(directory: directory, databaseName: "reeld_template")
        do {
            try cluster.start()
            try Migrator(directory: migrationsDirectory, logger: logger).migrate(url: cluster.url())
            // Stop the server when the test process ends normally.
            atexit { try? TestDatabase.stopCluster() }
            return .success(cluster)
        } catch {
            return .failure(error)
        }
    }()

    private static let counter = Atomic<Int>(0)

    /// Stops the server; removes its directory too unless `REELD_TEST_PGDIR` chose it (then it
    /// is the caller's to keep), so that every test run does not leave a cluster in /tmp.
    static func stopCluster() throws {
        guard case .success(let cluster) = cluster else { return }
        try cluster.stop()
        if ProcessInfo.processInfo.environment["REELD_TEST_PGDIR"] == nil {
            try? FileManager.default.removeItem(at: cluster.directory)
        }
    }

    /// A new, migrated, empty database; returns its libpq URL.
    public static func makeDatabase() throws -> String {
        let cluster = try cluster.get()
        let name = "t\(getpid())_\(counter.add(1, ordering: .relaxed).newValue)"
        try cluster.createDatabase(name, template: "reeld_template")
        return cluster.url(database: name)
    }

    /// A new database with no migrations applied, for migrator tests.
    public static func makeEmptyDatabase() throws -> String {
        let cluster = try cluster.get()
        let name = "e\(getpid())_\(counter.add(1, ordering: .relaxed).newValue)"
        try cluster.createDatabase(name)
        return cluster.url(database: name)
    }

    /// A pool on a fresh database.
    public static func makePool(connections: Int = 4) throws -> Database {
        Database(configuration: .init(url: try makeDatabase(), maxConnections: connections), logger: logger)
    }

    /// Inserts a user into auth.users and returns its id.
    public static func makeUser(_ database: Database) async throws -> UUID {
        try await database.query("insert into auth.users (email) values (null) returning id")[0].uuid("id")
    }

    /// Inserts a project for `user` and returns its id.
    public static func makeProject(_ database: Database, user: UUID) async throws -> UUID {
        try await database.query("insert into public.projects (user_id, title) values ($1::uuid, 'test') returning id", [user])[0].uuid("id")
    }
}
