import Foundation
import ReelDB
import ReelTestSupport
import Testing

/// Connected as Supabase's `authenticated` role with user A's JWT claims, user B's rows in every
/// user-owned table are invisible and cannot be written.
@Suite struct RowLevelSecurityTests {
    static let userOwnedTables = [
        "projects", "scenes", "assets", "workflow_steps", "generations", "jobs", "subscriptions",
        "credit_transactions", "usage_logs",
    ]

    /// One row per user-owned table for `user`.
    func seed(_ conn: PostgresConnection, user: UUID) throws {
        let project = try conn.query("insert into projects (user_id, title) values ($1::uuid, 'p') returning id", [user])[0].uuid("id")
        let scene = try conn.query("insert into scenes (user_id, project_id, index) values ($1::uuid, $2::uuid, 0) returning id", [user, project])[0].uuid("id")
        let asset = try conn.query(
            "insert into assets (user_id, project_id, scene_id, kind, storage_key, mime_type, size_bytes, sha256) values ($1::uuid, $2::uuid, $3::uuid, 'image', 'k', 'image/png', 1, 'x') returning id",
            [user, project, scene])[0].uuid("id")
        try conn.query("insert into workflow_steps (user_id, project_id, step) values ($1::uuid, $2::uuid, 'idea')", [user, project])
        let job = try conn.query("select job_id from reeld.submit_job('image.generate', '{\"prompt\":\"x\"}', $1::uuid, $2::uuid)", [user, project])[0].uuid("job_id")
        let generation = try conn.query(
            "insert into generations (user_id, project_id, scene_id, job_id, kind, provider, asset_id) values ($1::uuid, $2::uuid, $3::uuid, $4::uuid, 'image', 'local', $5::uuid) returning id",
            [user, project, scene, job, asset])[0].uuid("id")
        // The submit above reserved the image's credits, which opened the user's subscription.
        try conn.query("insert into subscriptions (user_id, tier) values ($1::uuid, 'pro') on conflict (user_id) do update set tier = 'pro'", [user])
        try conn.query("insert into credit_transactions (user_id, type, amount, note) values ($1::uuid, 'adjustment', 5, 'test')", [user])
        try conn.query("insert into usage_logs (user_id, generation_id, provider, unit, units) values ($1::uuid, $2::uuid, 'local', 'images', 1)", [user, generation])
    }

    /// A fresh database with users A and B, each with a row in every user-owned table.
    func twoSeededUsers() throws -> (PostgresConnection, a: UUID, b: UUID) {
        let conn = try PostgresConnection(url: try TestDatabase.makeDatabase())
        let a = try conn.query("insert into auth.users (email) values ('a@example.com') returning id")[0].uuid("id")
        let b = try conn.query("insert into auth.users (email) values ('b@example.com') returning id")[0].uuid("id")
        try seed(conn, user: a)
        try seed(conn, user: b)
        return (conn, a, b)
    }

    @Test func authenticatedUserSeesAndWritesOnlyTheirOwnRows() throws {
        let (conn, a, b) = try twoSeededUsers()
        let bProject = try conn.query("select id from projects where user_id = $1::uuid", [b])[0].uuid("id")

        try conn.execute("begin")
        try conn.execute("set local role authenticated")
        try conn.query("select set_config('request.jwt.claims', $1, true)", ["{\"sub\":\"\(a.uuidString.lowercased())\",\"role\":\"authenticated\"}"])
        #expect(try conn.query("select auth.uid() as uid")[0].uuid("uid") == a)

        for table in Self.userOwnedTables {
            let own = try conn.query("select count(*) as n from public.\(table) where user_id = $1::uuid", [a])[0].int("n")
            let other = try conn.query("select count(*) as n from public.\(table) where user_id = $1::uuid", [b])[0].int("n")
            #expect(own >= 1, "user A sees their own \(table)")
            #expect(other == 0, "user A must not see user B's \(table)")
            // Updates and deletes of B's rows touch nothing (or are refused outright).
            try conn.execute("savepoint s")
            do {
                let updated = try conn.query("update public.\(table) set user_id = user_id where user_id = $1::uuid", [b]).affectedRows
                #expect(updated == 0, "user A updated user B's \(table)")
                let deleted = try conn.query("delete from public.\(table) where user_id = $1::uuid", [b]).affectedRows
                #expect(deleted == 0, "user A deleted user B's \(table)")
            } catch let error as DatabaseError {
                #expect(error.sqlState == "42501", "refusal must be a privilege error, got \(error)")
            }
            try conn.execute("rollback to savepoint s")
        }

        // Inserting a row that belongs to B is refused by the policy's WITH CHECK.
        try conn.execute("savepoint s")
        #expect(throws: DatabaseError.self) {
            try conn.query("insert into public.projects (user_id, title) values ($1::uuid, 'forged')", [b])
        }
        try conn.execute("rollback to savepoint s")
        #expect(throws: DatabaseError.self) {
            try conn.query("insert into public.scenes (user_id, project_id, index) values ($1::uuid, $2::uuid, 9)", [b, bProject])
        }
        try conn.execute("rollback")

        // Nothing of B's changed.
        for table in Self.userOwnedTables {
            #expect(try conn.query("select count(*) as n from public.\(table) where user_id = $1::uuid", [b])[0].int("n") >= 1)
        }
    }

    @Test func deletingAUserRemovesTheirRowsInEveryTableAndNoOneElses() throws {
        // Through the foreign keys' cascades. public.jobs has no index on user_id (0014): its
        // cascade scans the table, and must still find every job of the user.
        let (conn, a, b) = try twoSeededUsers()
        try conn.query("select reeld.submit_job('system.noop', '{}', $1::uuid)", [a])
        try conn.query("delete from auth.users where id = $1::uuid", [a])
        for table in Self.userOwnedTables {
            let left = try conn.query("select count(*) as n from public.\(table) where user_id = $1::uuid", [a])[0].int("n")
            let others = try conn.query("select count(*) as n from public.\(table) where user_id = $1::uuid", [b])[0].int("n")
            #expect(left == 0, "user A's \(table) outlived the user")
            #expect(others >= 1, "user B's \(table) went with user A")
        }
    }

    /// reeld connects as a role that bypasses row-level security, as Supabase's `service_role`
    /// does: that role must be able to read and write every table the engine touches.
    @Test func theServiceRoleCanWriteEveryTableOfTheEngine() throws {
        let conn = try PostgresConnection(url: try TestDatabase.makeDatabase())
        let missing = try conn.query(
            """
            select n.nspname || '.' || c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where c.relkind in ('r', 'p') and n.nspname in ('public', 'reeld')
              and c.relname not in ('schema_migrations', 'schema_functions')
              and not has_table_privilege('service_role', c.oid, 'select, insert, update, delete')
            order by 1
            """
        ).map { try $0.string("name") }
        #expect(missing == [])
    }
}
