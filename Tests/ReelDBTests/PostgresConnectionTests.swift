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
}
