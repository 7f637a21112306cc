import ArgumentParser
import Foundation
import ReelCore
import ReelQueue

/// `reelctl credits USER`: a user's balance, open reservations and latest ledger movements.
struct Credits: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a user's credits: balance, reserved by queued jobs, and the latest movements.",
        discussion: """
            USER is a user id or an email. Looking grants the month's allowance if it is due \
            (it is owed either way, and granted once).
            """)

    @ParentCommand var root: ReelCtl

    @Argument(help: ArgumentHelp("The user's id or email.", valueName: "user"))
    var user: String

    @Option(help: "At most this many movements, newest first.")
    var limit = 20

    @Flag(help: "Print JSON (the account with its movements) instead of text.")
    var json = false

    func validate() throws {
        guard limit >= 0 else { throw ValidationError("--limit must be 0 or more") }
    }

    func run() async throws {
        try await reportingFailures {
            let database = try root.global.openDatabase()
            defer { database.close() }
            let ledger = CreditLedger(database: database)
            let id: UUID
            if let given = UUID(text: user) {
                id = given
            } else if let found = try await ledger.user(email: user) {
                id = found
            } else {
                throw CtlFailure(code: .notFound, message: "no user with email \(user)")
            }
            guard let account = try await ledger.account(user: id, movements: limit) else {
                throw CtlFailure(code: .notFound, message: "no user \(id.lowercasedText)")
            }
            if json {
                print(Formatting.prettyJSON(account))
            } else {
                print(Self.describe(account))
            }
        }
    }

    static func describe(_ account: CreditLedger.Account) -> String {
        typealias F = Formatting
        var lines: [String] = []
        func field(_ name: String, _ value: String) {
            lines.append("  " + name.padding(toLength: 16, withPad: " ", startingAt: 0) + value)
        }
        lines.append("user \(F.uuid(account.userID))" + (account.email.map { " (\($0))" } ?? ""))
        field("tier", account.tier.rawValue)
        field("balance", "\(account.balance) credits")
        field("reserved", "\(account.reserved) credits (held by jobs that have not finished)")
        field("monthly", "\(account.monthlyCredits) credits" + (account.grantedPeriod.map { ", last granted for \($0.prefix(7))" } ?? ""))
        if account.movements.isEmpty {
            lines.append("movements: none")
        } else {
            lines.append("movements (newest \(account.movements.count))")
            let rows = account.movements.map { m in
                let sign = switch m.kind {
                case .grant, .purchase, .release: "+"
                case .reserve, .capture: "-"
                case .adjustment: m.amount >= 0 ? "+" : "-"
                }
                return [F.time(m.at), m.kind.rawValue, sign + "\(abs(m.amount))", m.jobID.map(F.uuid) ?? "", m.note ?? ""]
            }
            lines.append(F.indented(F.table(["TIME", "TYPE", "AMOUNT", "JOB", "NOTE"], rows)))
        }
        return lines.joined(separator: "\n")
    }
}
