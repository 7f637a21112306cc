import Foundation
import Glibc

/// Finds the executables SwiftPM built beside the test bundle (`reeld`, the spool crash driver),
/// so process tests run the very binaries of this build.
public enum BuiltProducts {
    /// The build products directories to look in, most specific first: `REELD_TEST_PRODUCTS`,
    /// the directory of the running test binary (`.build/<triple>/debug/reeldPackageTests.xctest`
    /// on Linux, whatever `--scratch-path` says), then the package's `.build/debug`.
    static var directories: [URL] {
        var candidates: [URL] = []
        if let explicit = ProcessInfo.processInfo.environment["REELD_TEST_PRODUCTS"] {
            candidates.append(URL(fileURLWithPath: explicit))
        }
        if let running = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            candidates.append(URL(fileURLWithPath: running).deletingLastPathComponent())
        }
        if let main = Bundle.main.executableURL {
            candidates.append(main.resolvingSymlinksInPath().deletingLastPathComponent())
        }
        let package = TestDatabase.migrationsDirectory.deletingLastPathComponent()
        candidates.append(package.appendingPathComponent(".build/debug"))
        var seen = Set<String>()
        return candidates.map(\.standardizedFileURL).filter { seen.insert($0.path).inserted }
    }

    /// The executable `name` from this build.
    /// - Throws: `ChildProcess.Failure` naming every place looked in and how to build it.
    public static func executable(_ name: String) throws -> URL {
        let places = directories
        for directory in places {
            let candidate = directory.appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue,
               access(candidate.path, X_OK) == 0 {
                return candidate
            }
        }
        throw ChildProcess.Failure(
            "the \(name) executable is not built; looked in \(places.map(\.path).joined(separator: ", ")). "
                + "Run `swift build --build-tests` before `swift test --skip-build`, or set REELD_TEST_PRODUCTS to the products directory.")
    }
}
