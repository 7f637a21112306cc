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
}
