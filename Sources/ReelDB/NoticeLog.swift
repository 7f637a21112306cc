import CPostgres
import Foundation
import Logging

/// The receiving end of one connection's notices: a PostgreSQL NOTICE, WARNING or INFO that
/// comes with a result, logged at debug level (they are the server's chatter about statements
/// that worked; errors are thrown, not noticed).
final class NoticeLog: Sendable {
    let logger: Logger?

    init(logger: Logger?) {
        self.logger = logger
    }

    /// Called by libpq on the connection's thread, during the call that caused the notice.
    func record(_ result: OpaquePointer) {
        guard let logger else { return }
        func field(_ code: Character) -> String? {
            PQresultErrorField(result, Int32(code.asciiValue!)).map { String(cString: $0) }
        }
        // Field codes are libpq's PG_DIAG_* letters: V severity (not localised), C SQLSTATE, M message.
        let message = field("M") ?? String(cString: PQresultErrorMessage(result)).trimmingCharacters(in: .whitespacesAndNewlines)
        logger.debug("PostgreSQL notice", metadata: [
            "severity": "\(field("V") ?? "NOTICE")",
            "sqlstate": "\(field("C") ?? "")",
            "notice": "\(message)",
        ])
    }
}
