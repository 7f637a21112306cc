import Foundation
import Synchronization

/// A real `reeld` process for tests that need several nodes: started with a config file,
/// its stderr kept in a log file, stopped with SIGTERM (then SIGKILL) however the test ends.
public final class ReeldProcess: Sendable {
    public let name: String
    public let logFile: URL
    private let process: Mutex<Process>

    /// The `reeld` executable: `REELD_EXECUTABLE`, else beside the test bundle, where
    /// `swift build --build-tests` puts every product of the package.
    public static func executable() throws -> URL {
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["REELD_EXECUTABLE"], !explicit.isEmpty {
            return URL(fileURLWithPath: explicit)
        }
        var candidates: [URL] = []
        // On Linux the test bundle is the running executable (…/debug/reeldPackageTests.xctest).
        if let me = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            candidates.append(URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent("reeld"))
        }
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("reeld"))
        candidates.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("reeld"))
        if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) {
            return found
        }
        throw ReeldProcessError(
            "no reeld executable beside the test bundle (looked at \(candidates.map(\.path).joined(separator: ", "))): "
                + "build it with `swift build --build-tests`, or set REELD_EXECUTABLE")
    }

    /// Starts `reeld run --config <config>`.
    public init(name: String, config: URL, migrations: URL, logDirectory: URL) throws {
        self.name = name
        logFile = logDirectory.appendingPathComponent("\(name).log")
        guard FileManager.default.createFile(atPath: logFile.path, contents: nil) else {
            throw ReeldProcessError("cannot create \(logFile.path) for node \(name)'s log")
        }
        let log = try FileHandle(forWritingTo: logFile)
        let process = Process()
        process.executableURL = try Self.executable()
        process.arguments = ["run", "--config", config.path, "--migrations", migrations.path]
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        self.process = Mutex(process)
    }

    public var isRunning: Bool { process.withLock { $0.isRunning } }

    /// What the process wrote, for a failure message.
    public var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    /// Sends SIGTERM: the node stops claiming, lets its jobs finish and exits.
    public func terminate() {
        process.withLock { if $0.isRunning { $0.terminate() } }
    }

    /// SIGTERM, then SIGKILL after `grace`; returns once the process has exited. Returns false
    /// when it had to be killed.
    @discardableResult
    public func stop(grace: Duration = .seconds(30)) -> Bool {
        process.withLock { process in
            guard process.isRunning else { return true }
            process.terminate()
            let deadline = ContinuousClock.now + grace
            while process.isRunning && ContinuousClock.now < deadline { usleep(20_000) }
            guard process.isRunning else { return true }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return false
        }
    }

    deinit { stop(grace: .seconds(2)) }
}

/// The test could not run a reeld process.
public struct ReeldProcessError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
