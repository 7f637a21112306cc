import Foundation

/// A built executable run to its end: how it ended and what it printed.
public struct CompletedRun: Sendable {
    public var status: ChildProcess.Termination
    public var output: String
    public var errors: String

    /// Runs the built product `name` with `arguments`, its output in files of `directory`, and
    /// waits for it. Its stdout is a file, not a terminal.
    public static func of(
        _ name: String, _ arguments: [String], in directory: URL, label: String, timeout: Duration = .seconds(60)
    ) async throws -> CompletedRun {
        let process = try ChildProcess(
            executable: try BuiltProducts.executable(name), arguments: arguments, outputDirectory: directory, label: label)
        let status = try await process.waitForExit(timeout: timeout)
        return CompletedRun(status: status, output: process.standardOutput, errors: process.standardError)
    }
}
