import Foundation
import Glibc
import Logging
import ReelDB
import ReelTestSupport
import Testing

@Suite struct PostgresConnectionTests {
    /// Every connection reeld opens runs in UTC, with a statement timeout and without JIT
    /// (see PostgresConnection.init).
    @Test func aConnectionRunsInUTCWithAStatementTimeoutAndNoJIT() throws {
        let connection = try PostgresConnection(url: try TestDatabase.makeDatabase())
        #expect(try connection.query("show timezone")[0].string("TimeZone") == "UTC")
        #expect(try connection.query("show statement_timeout")[0].string("statement_timeout") == "1min")
        #expect(try connection.query("show jit")[0].string("jit") == "off")
    }

    /// libpq quotes the token it cannot parse, which may be the password: the error says where
    /// the problem is, never what the password is.
    @Test func aConnectionErrorNeverQuotesThePassword() throws {
        for url in [
            "postgresql://reeld:p%zzsecret@/reeld?host=/nonexistent",
            "postgresql://reeld:hunter2secret@/reeld?host=/nonexistent",
            "postgresql://reeld@/reeld?host=/nonexistent&password=q%zzsecret",
            "host=/nonexistent dbname=reeld password='hunter3 secret'",
        ] {
            let error = #expect(throws: DatabaseError.self) { try PostgresConnection(url: url) }
            let text = "\(error.map { "\($0)" } ?? "")"
            #expect(text.contains("cannot connect"), "\(text)")
            for secret in ["p%zzsecret", "zzsecret", "hunter2secret", "q%zzsecret", "hunter3 secret"] {
                #expect(!text.contains(secret), "\(url) → \(text)")
            }
        }
    }

    /// Text parameters travel as C strings: one holding NUL would arrive cut short, so it is
    /// refused whole, as invalid input (a spool file is rejected, not retried forever).
    @Test func aParameterHoldingNULIsRefusedNotCutShort() throws {
        let connection = try PostgresConnection(url: try TestDatabase.makeDatabase())
        let error = #expect(throws: DatabaseError.self) { try connection.query("select $1::text as t", ["key\u{0}one"]) }
        #expect(error?.isInvalidInput == true)
        #expect(try connection.query("select $1::text as t", ["key-one"])[0].string("t") == "key-one")
    }

    /// libpq prints notices to stderr unless told otherwise; reeld's go to the logger at debug
    /// level, so `reeld bench` and the CLIs print only their own output.
    @Test func aNoticeGoesToTheLoggerAtDebugAndNotToStandardError() throws {
        let records = RecordedLogs()
        var logger = Logger(label: "notice-test") { _ in records }
        logger.logLevel = .debug
        let connection = try PostgresConnection(url: try TestDatabase.makeDatabase(), logger: logger)
        let marker = "reeld-notice-\(UUID().uuidString)"
        let standardError = try capturingStandardError {
            try connection.execute("do $$ begin raise notice '\(marker)'; end $$")
        }
        #expect(!standardError.contains(marker), "\(standardError)")
        let entry = try #require(records.entries.first { $0.metadata["notice"] == marker }, "\(records.entries)")
        #expect(entry.level == .debug)
        #expect(entry.message == "PostgreSQL notice")
        #expect(entry.metadata["severity"] == "NOTICE")

        // Without a logger the notice is dropped, still not printed.
        let silent = try PostgresConnection(url: try TestDatabase.makeDatabase())
        let dropped = try capturingStandardError { try silent.execute("do $$ begin raise notice '\(marker)'; end $$") }
        #expect(!dropped.contains(marker), "\(dropped)")
    }

    /// Runs `body` with file descriptor 2 pointed at a file, and returns what was written there.
    private func capturingStandardError(_ body: () throws -> Void) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("stderr-\(UUID().uuidString)").path
        let file = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        try #require(file >= 0)
        defer {
            close(file)
            unlink(path)
        }
        let saved = dup(2)
        try #require(saved >= 0)
        fflush(nil)
        dup2(file, 2)
        defer {
            fflush(nil)
            dup2(saved, 2)
            close(saved)
        }
        try body()
        fflush(nil)
        return (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }
}
