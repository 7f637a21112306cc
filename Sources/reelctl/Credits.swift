import ArgumentParser
import Foundation
import ReelCore
import ReelQueue

/// `reelctl credits USER`: a user's balance, open reservations and latest ledger movements;
/// with `--purchase` or `--adjust`, a movement first (support's tools: a payment's credits, a
/// correction), idempotent by `--reference`.
struct Credits: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a user's credits: balance, reserved by queued jobs, and the latest movements.",
        discussion: """
            USER is a user id or an email. Looking grants the month's allowance if it is due \
            (it is owed either way, and granted once). --purchase N adds N bought credits; \
            --adjust N corrects the balance by N either way (never below zero). With \
            --reference (a payment or ticket id) the same movement given twice counts once.
            """)

    @ParentCommand var root: ReelCtl

    @Argument(help: ArgumentHelp("The user's id or email.", valueName: "user"))
    var user: String

    @Option(help: "At most this many movements, newest first.")
    var limit = 20

    @Flag(help: "Print JSON (the account with its movements) instead of text.")
    var json = false

    @Option(help: ArgumentHelp("Add this many bought credits first.", valueName: "credits"))
    var purchase: Int?

    // Unconditional: the value may be negative, which would otherwise read as an option.
    @Option(parsing: .unconditional,
            help: ArgumentHelp("Correct the balance by this many credits first (negative to take away).", valueName: "credits"))
    var adjust: Int?

    @Option(help: ArgumentHelp("A payment or ticket id that makes --purchase or --adjust count once.", valueName: "id"))
    var reference: String?

    @Option(help: "Why, for the ledger (with --purchase or --adjust).")
    var note: String?

    func validate() throws {
        guard limit >= 0 else { throw ValidationError("--limit must be 0 or more") }
        guard purchase == nil || adjust == nil else { throw ValidationError("give --purchase or --adjust, not both") }
        if let purchase, purchase <= 0 { throw ValidationError("--purchase must be more than 0") }
        if let adjust, adjust == 0 { throw ValidationError("--adjust must not be 0") }
        if purchase == nil && adjust == nil && (reference != nil || note != nil) {
            throw ValidationError("--reference and --note go with --purchase or --adjust")
        }
        if let reference, reference.isEmpty || reference.count > 255 { throw ValidationError("--reference must be 1-255 characters") }
    }

    func run() async throws {
        try await root.global.withDatabase { database in
            let ledger = CreditLedger(database: database)
            let id: UUID
            if let given = UUID(text: user) {
                id = given
            } else if let found = try await ledger.user(email: user) {
                id = found
            } else {
                throw CtlFailure(code: .notFound, message: "no user with email \(user)")
            }
            if (purchase != nil || adjust != nil), try await ledger.account(user: id, movements: 0) == nil {
                throw CtlFailure(code: .notFound, message: "no user \(id.lowercasedText)")
            }
            let moved: Bool?
            if let purchase {
                moved = try await ledger.purchase(user: id, credits: purchase, reference: reference, note: note)
            } else if let adjust {
                moved = try await ledger.adjust(user: id, credits: adjust, reference: reference, note: note)
            } else {
                moved = nil
            }
            if moved == false, let reference {
                // Not an error: a replayed payment must not fail the script that replays it.
                FileHandle.standardError.write(Data("reelctl: reference \(reference) was already recorded for this user; nothing changed\n".utf8))
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
