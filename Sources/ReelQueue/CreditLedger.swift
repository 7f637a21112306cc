import Foundation
import ReelCore
import ReelDB

/// A user's credits: the balance and open reservations on their subscription, and the
/// append-only ledger in `public.credit_transactions` that explains them.
///
/// Reserve, capture and release happen inside the engine's own statements (submit, complete,
/// fail, cancel); this is how operators and the studio look, buy and correct.
public struct CreditLedger: Sendable {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// One movement in the ledger.
    public struct Movement: Sendable, Hashable, Encodable {
        public enum Kind: String, Sendable, Hashable, Encodable, CaseIterable {
            case grant, purchase, reserve, capture, release, adjustment
        }

        public var id: Int
        public var at: Date
        public var kind: Kind
        /// Positive, except an adjustment, which may be either.
        public var amount: Int
        public var jobID: UUID?
        public var note: String?
    }

    /// A user's account as `reelctl credits` shows it.
    public struct Account: Sendable, Hashable, Encodable {
        public var userID: UUID
        public var email: String?
        public var tier: Tier
        /// Credits that may be reserved now.
        public var balance: Int
        /// Held by jobs that have not finished.
        public var reserved: Int
        public var monthlyCredits: Int
        /// The first day of the month whose allowance was granted last.
        public var grantedPeriod: String?
        /// Newest first.
        public var movements: [Movement]
    }

    /// The account of a user (by id), with its newest `limit` movements, after granting the
    /// month's allowance if it is due (the grant is owed whether or not anyone looks, and
    /// `reeld.credit_account()` grants it once). Nil when there is no such user.
    public func account(user: UUID, movements limit: Int = 20) async throws -> Account? {
        try await database.transaction { conn -> Account? in
            guard let user = try conn.query("select id, email from auth.users where id = $1::uuid", [user]).first else { return nil }
            let id = try user.uuid("id")
            let row = try conn.query(
                """
                select a.tier, a.credits_balance, a.credits_reserved, a.granted_period::text as granted, u.monthly_credits
                from reeld.credit_account($1::uuid) a, reeld.user_allowance($1::uuid) u
                """, [id])[0]
            let movements = try conn.query(
                """
                select id, extract(epoch from created_at)::double precision as at, type, amount, job_id, note
                from public.credit_transactions where user_id = $1::uuid
                order by created_at desc, id desc limit $2::int
                """, [id, max(0, limit)]
            ).map { m in
                Movement(id: try m.int("id"), at: try m.epochDate("at"), kind: Movement.Kind(rawValue: try m.string("type"))!,
                         amount: try m.int("amount"), jobID: try m.optionalUUID("job_id"), note: try m.optionalString("note"))
            }
            return Account(userID: id, email: try user.optionalString("email"), tier: Tier(rawValue: try row.string("tier"))!,
                           balance: try row.int("credits_balance"), reserved: try row.int("credits_reserved"),
                           monthlyCredits: try row.int("monthly_credits"), grantedPeriod: try row.optionalString("granted"),
                           movements: movements)
        }
    }

    /// The id of the user with this email, if any.
    public func user(email: String) async throws -> UUID? {
        try await database.query("select id from auth.users where email = $1", [email]).first?.uuid("id")
    }

    /// Adds bought credits. `reference` (a payment id) makes it idempotent: false when that
    /// reference was recorded before and nothing changed.
    @discardableResult
    public func purchase(user: UUID, credits: Int, reference: String? = nil, note: String? = nil) async throws -> Bool {
        try await database.query(
            "select reeld.credit_purchase($1::uuid, $2::bigint, $3, $4) as done", [user, credits, reference, note]
        )[0].bool("done")
    }

    /// A correction either way; refused (SQLSTATE 22023) if it would take the balance below zero.
    @discardableResult
    public func adjust(user: UUID, credits: Int, reference: String? = nil, note: String? = nil) async throws -> Bool {
        try await database.query(
            "select reeld.credit_adjust($1::uuid, $2::bigint, $3, $4) as done", [user, credits, reference, note]
        )[0].bool("done")
    }
}
