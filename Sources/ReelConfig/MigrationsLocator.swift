import Foundation

/// Finds the `Migrations/` directory: an explicit path, `REELD_MIGRATIONS_DIR`, the working
/// directory (a checkout), beside the executable's share directory, or the packaged location.
public enum MigrationsLocator {
    public static func find(explicit: String? = nil) throws -> URL {
        var candidates: [String] = []
        if let explicit { candidates.append(explicit) }
        if let env = ProcessInfo.processInfo.environment["REELD_MIGRATIONS_DIR"] { candidates.append(env) }
        candidates.append(FileManager.default.currentDirectoryPath + "/Migrations")
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        candidates.append(executable.appendingPathComponent("../share/reeld/migrations").standardizedFileURL.path)
        candidates.append("/usr/share/reeld/migrations")
        for path in candidates where FileManager.default.fileExists(atPath: path + "/0001_auth.sql") {
            return URL(fileURLWithPath: path)
        }
        throw ConfigurationProblem("no migrations found (looked in \(candidates.joined(separator: ", "))); pass --migrations DIR")
    }
}
