import Foundation
import Logging
import ReelDB
import ReelLocalCluster

/// The database a benchmark runs against: the URL given, or a throwaway cluster in a temporary
/// directory that is stopped and removed afterwards; migrated either way.
public enum BenchDatabase {
    /// Runs `body` with the URL of a migrated database.
    public static func withMigrated<T>(
        url given: String? = nil, migrations: URL, logger: Logger, _ body: (String) async throws -> T
    ) async throws -> T {
        var cluster: LocalCluster?
        let url: String
        if let given {
            url = given
        } else {
            let made = LocalCluster(directory: URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("reeld-bench-\(getpid())"))
            try made.start()
            cluster = made
            url = made.url()
        }
        // Stopped on every way out: a cluster left running would keep its directory and port of call.
        defer {
            if let cluster {
                try? cluster.stop()
                try? FileManager.default.removeItem(at: cluster.directory)
            }
        }
        try Migrator(directory: migrations, logger: logger).migrate(url: url)
        return try await body(url)
    }
}
