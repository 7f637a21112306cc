import Foundation
import ReelTestSupport
import ReelVersion
import Testing

/// `--version` as an operator or a bug report uses it: the built binaries print the release and
/// the commit they were built from, and the release has its entry in CHANGELOG.md.
@Suite struct VersionProcessTests {
    /// The release as CHANGELOG.md and the Debian package's name expect it: MAJOR.MINOR.PATCH.
    static var release: Regex<Substring> { #/[0-9]+\.[0-9]+\.[0-9]+/# }
    /// A short commit hash, `-dirty` when built from a tree with changes; "unknown" outside
    /// `scripts/package-deb`.
    static var commit: Regex<(Substring, Substring?)> { #/unknown|[0-9a-f]{7,40}(-dirty)?/# }

    @Test(arguments: ["reeld", "reelctl"])
    func printsReleaseAndCommit(program: String) async throws {
        let directory = try TemporaryDirectory(prefix: "version")
        defer { directory.remove() }
        let process = try ChildProcess(
            executable: try BuiltProducts.executable(program), arguments: ["--version"], outputDirectory: directory.url,
            label: "\(program)-version")
        let status = try await process.waitForExit(timeout: .seconds(30))
        #expect(status == .exited(0), "\(process.stderrTail())")
        #expect(process.standardOutput == ReelVersion.line(program: program) + "\n")
        #expect(process.standardError.isEmpty)
        #expect(ReelVersion.version.wholeMatch(of: Self.release) != nil)
        #expect(ReelVersion.commit.wholeMatch(of: Self.commit) != nil)
    }

    @Test func changelogHasAnEntryForTheRelease() throws {
        let changelog = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("CHANGELOG.md")
        let text = try String(contentsOf: changelog, encoding: .utf8)
        let heading = "## \(ReelVersion.version) "
        #expect(text.split(separator: "\n").contains { $0.hasPrefix(heading) }, "CHANGELOG.md has no \"\(heading)…\" section")
    }
}
