/// The release of reeld and reelctl, and the commit they were built from, for `--version`.
///
/// The release number lives here and nowhere else: `scripts/package-deb` reads it back from the
/// built `reeld --version` to name and version the Debian package.
public enum ReelVersion {
    /// The release; bumped together with a new section in CHANGELOG.md.
    public static let version = "0.1.0"

    /// The short commit hash the binary was built from (with `-dirty` if the working tree had
    /// changes), or "unknown". `scripts/package-deb` writes it into the git-ignored
    /// `BuildCommit.swift` beside this file and builds with `-DREELD_BUILD_STAMP`; a plain
    /// `swift build` needs neither, so a fresh checkout builds as it is.
    #if REELD_BUILD_STAMP
    public static let commit = stampedCommit
    #else
    public static let commit = "unknown"
    #endif

    /// What `PROGRAM --version` prints: `reeld 0.1.0 (73ae756)`.
    public static func line(program: String) -> String {
        "\(program) \(version) (\(commit))"
    }
}
