import ArgumentParser
import Foundation
import ReelDB
import ReelIntake
import ReelQueue

/// A failure reelctl reports: one message for the operator and a sysexits(3) exit code, so
/// scripts can tell "your input is wrong" from "no such job" from "the database is down".
struct CtlFailure: Error, CustomStringConvertible {
    enum Code: Int32 {
        /// EX_DATAERR: the job file or the job is invalid.
        case invalidInput = 65
        /// EX_NOINPUT: no such job, or no such file.
        case notFound = 66
        /// EX_UNAVAILABLE: PostgreSQL could not be reached.
        case unavailable = 69
        case other = 1
    }

    var code: Code
    var message: String

    var description: String { message }

    /// Maps anything a subcommand throws to a message and an exit code. Every message passes
    /// through `redactingSecrets`, since libpq may echo parts of the connection string.
    static func from(_ error: any Error) -> CtlFailure {
        switch error {
        case let failure as CtlFailure:
            return CtlFailure(code: failure.code, message: failure.message.redactingSecrets)
        case let invalid as JobFileInvalid:
            let lines = invalid.problems.map { "  \($0.path): expected \($0.expected), got \($0.got)" }
            return CtlFailure(code: .invalidInput, message: (["invalid job file (nothing submitted):"] + lines).joined(separator: "\n"))
        case let refused as SubmitError:
            return CtlFailure(code: .invalidInput, message: refused.description.redactingSecrets)
        case let database as DatabaseError where database.isInvalidInput:
            // Refused by the database's own checks (SQLSTATE 22023), which name what is wrong.
            return CtlFailure(code: .invalidInput, message: database.message.redactingSecrets)
        case let database as DatabaseError where database.isConnectionFailure:
            return CtlFailure(code: .unavailable, message: "database unreachable: \(database.message)".redactingSecrets)
        default:
            return CtlFailure(code: .other, message: "\(error)".redactingSecrets)
        }
    }
}

extension String {
    /// The text with passwords blanked: `password=…` keywords and the `user:password@` of a URL.
    var redactingSecrets: String {
        var text = self
        // password=secret, password='sec ret', password = secret (libpq keyword/value form and URL query).
        text = text.replacing(#/(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&'"]+)/#) { "\($0.output.1)***" }
        // scheme://user:secret@host
        text = text.replacing(#/([A-Za-z][A-Za-z0-9+.\-]*://[^/\s:@]*):[^@\s]*@/#) { "\($0.output.1):***@" }
        return text
    }
}

/// Runs a subcommand's body, printing any failure to stderr as `reelctl: …` and exiting with
/// its code. Validation errors (exit 64) are left to ArgumentParser, which prints the usage.
func reportingFailures(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as ValidationError {
        throw error
    } catch let error as ExitCode {
        throw error
    } catch {
        let failure = CtlFailure.from(error)
        FileHandle.standardError.write(Data("reelctl: \(failure.message)\n".utf8))
        throw ExitCode(failure.code.rawValue)
    }
}
