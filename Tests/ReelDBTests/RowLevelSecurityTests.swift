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
            // Updates and deletes of B's rows touch nothing (or are refused outright), each tried
            // on its own.
            for write in ["update public.\(table) set user_id = user_id where user_id = $1::uuid",
                          "delete from public.\(table) where user_id = $1::uuid"] {
                try conn.execute("savepoint s")
                do {
                    let written = try conn.query(write, [b]).affectedRows
                    #expect(written == 0, "user A wrote user B's \(table): \(write)")
                } catch let error as DatabaseError {
                    #expect(error.sqlState == "42501", "refusal must be a privilege error, got \(error)")
                }
                try conn.execute("rollback to savepoint s")
            }
        }

        // Inserting a row that belongs to B is refused by the policy's WITH CHECK.
        try expectRefused(conn, "insert into public.projects (user_id, title) values ($1::uuid, 'forged')", [b])
        try expectRefused(conn, "insert into public.scenes (user_id, project_id, index) values ($1::uuid, $2::uuid, 9)", [b, bProject])
        try conn.execute("rollback")

        // Nothing of B's changed.
        for table in Self.userOwnedTables {
            #expect(try conn.query("select count(*) as n from public.\(table) where user_id = $1::uuid", [b])[0].int("n") >= 1)
        }
    }

    /// Runs `sql` in a savepoint and expects the exact refusal of a privilege or a policy,
    /// SQLSTATE 42501 (insufficient_privilege, which row-level security raises too): any other
    /// error (a foreign key, a unique key, a typo) would say nothing about the rules.
    func expectRefused(_ conn: PostgresConnection, _ sql: String, _ parameters: [any SQLParameter] = [],
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
        try conn.execute("savepoint refused")
        do {
            let rows = try conn.query(sql, parameters)
            Issue.record("not refused, \(rows.affectedRows) rows written: \(sql)", sourceLocation: sourceLocation)
        } catch let error as DatabaseError {
            #expect(error.sqlState == "42501", "\(sql): \(error)", sourceLocation: sourceLocation)
        }
        try conn.execute("rollback to savepoint refused")
    }

    /// Begins a transaction as Supabase's `authenticated` role with `user`'s JWT claims.
    func beginAsUser(_ conn: PostgresConnection, _ user: UUID) throws {
        try conn.execute("begin")
        try conn.execute("set local role authenticated")
        try conn.query("select set_config('request.jwt.claims', $1, true)", ["{\"sub\":\"\(user.uuidString.lowercased())\",\"role\":\"authenticated\"}"])
    }

    /// Knowing B's ids, A can put nothing into B's project: no scene, no asset (B's handlers
    /// take the newest asset with a role), no completed workflow step, no generation for B's
    /// job (B's job would return it), and cannot move an own row under B's project or scene.
    @Test func aUserCannotWriteIntoAnotherUsersProject() throws {
        let (conn, a, b) = try twoSeededUsers()
        func id(_ table: String, of user: UUID) throws -> UUID {
            try conn.query("select id from public.\(table) where user_id = $1::uuid limit 1", [user])[0].uuid("id")
        }
        let (bProject, bScene, bAsset) = (try id("projects", of: b), try id("scenes", of: b), try id("assets", of: b))
        // A job of B's whose handler has not yet made its generation row.
        let bJob = try conn.query("select job_id from reeld.submit_job('image.generate', '{\"prompt\":\"y\"}', $1::uuid, $2::uuid)", [b, bProject])[0].uuid("job_id")
        let (aProject, aScene, aAsset) = (try id("projects", of: a), try id("scenes", of: a), try id("assets", of: a))

        try beginAsUser(conn, a)
        try expectRefused(conn, "insert into public.scenes (user_id, project_id, index) values ($1::uuid, $2::uuid, 9)", [a, bProject])
        try expectRefused(conn,
            """
            insert into public.assets (user_id, project_id, kind, role, storage_key, mime_type, size_bytes, sha256)
            values ($1::uuid, $2::uuid, 'video', 'clip', 'projects/a/videos/mine.mp4', 'video/mp4', 1, 'x')
            """, [a, bProject])
        try expectRefused(conn, "insert into public.workflow_steps (user_id, project_id, step, state) values ($1::uuid, $2::uuid, 'export', 'completed')", [a, bProject])
        try expectRefused(conn,
            """
            insert into public.generations (user_id, project_id, job_id, kind, provider, state, output)
            values ($1::uuid, $2::uuid, $3::uuid, 'image', 'local', 'completed', '{"asset_id": "forged"}')
            """, [a, aProject, bJob])
        try expectRefused(conn, "update public.scenes set project_id = $2::uuid, index = 5 where id = $1::uuid", [aScene, bProject])
        try expectRefused(conn, "update public.assets set scene_id = $2::uuid where id = $1::uuid", [aAsset, bScene])
        try conn.execute("rollback")

        // B's project holds only what B put there.
        for table in ["scenes", "assets", "workflow_steps", "generations"] {
            #expect(try conn.query("select count(*) as n from public.\(table) where project_id = $1::uuid and user_id <> $2::uuid", [bProject, b])[0].int("n") == 0)
        }
        #expect(try conn.query("select count(*) as n from public.generations where job_id = $1::uuid", [bJob])[0].int("n") == 0)
        #expect(try conn.query("select scene_id from public.assets where id = $1::uuid", [bAsset])[0].uuid("scene_id") == bScene)
    }

    /// What reeld records about work is reeld's alone: where a file is stored and what it
    /// holds, a generation's state and output, a workflow step's progress. Users still edit
    /// their projects and scenes, and an asset's role and scene within its project.
    @Test func reeldsRecordsOfWorkAreNotWritableByTheUser() throws {
        let (conn, a, _) = try twoSeededUsers()
        func id(_ table: String) throws -> UUID {
            try conn.query("select id from public.\(table) where user_id = $1::uuid limit 1", [a])[0].uuid("id")
        }
        let (project, scene, asset, generation) = (try id("projects"), try id("scenes"), try id("assets"), try id("generations"))

        try beginAsUser(conn, a)
        try expectRefused(conn, "update public.assets set storage_key = 'projects/other/videos/theirs.mp4' where id = $1::uuid", [asset])
        try expectRefused(conn, "update public.assets set duration_seconds = 1e9 where id = $1::uuid", [asset])
        try expectRefused(conn, "update public.assets set media = '{}', size_bytes = 0, sha256 = 'y' where id = $1::uuid", [asset])
        try expectRefused(conn,
            """
            insert into public.assets (user_id, project_id, kind, role, storage_key, mime_type, size_bytes, sha256)
            values ($1::uuid, $2::uuid, 'video', 'clip', 'projects/other/videos/theirs.mp4', 'video/mp4', 1, 'x')
            """, [a, project])
        try expectRefused(conn, "update public.generations set state = 'completed', output = '{}' where id = $1::uuid", [generation])
        try expectRefused(conn, "insert into public.generations (user_id, project_id, kind, provider, state, output) values ($1::uuid, $2::uuid, 'image', 'local', 'completed', '{}')", [a, project])
        try expectRefused(conn, "update public.workflow_steps set state = 'completed' where project_id = $1::uuid", [project])
        try expectRefused(conn, "insert into public.workflow_steps (user_id, project_id, step, state) values ($1::uuid, $2::uuid, 'export', 'completed')", [a, project])

        // What stays the user's to edit.
        #expect(try conn.query("update public.projects set title = 'renamed', brief = 'b' where id = $1::uuid", [project]).affectedRows == 1)
        #expect(try conn.query("update public.scenes set narration = 'n', duration_seconds = 4 where id = $1::uuid", [scene]).affectedRows == 1)
        #expect(try conn.query("update public.assets set role = 'hero', scene_id = null where id = $1::uuid", [asset]).affectedRows == 1)
        #expect(try conn.query("update public.assets set scene_id = $2::uuid where id = $1::uuid", [asset, scene]).affectedRows == 1)
        #expect(try conn.query("insert into public.scenes (user_id, project_id, index) values ($1::uuid, $2::uuid, 7)", [a, project]).affectedRows == 1)
        try conn.execute("commit")
    }

    /// Money and the queue change only through reeld: a user writes none of their own
    /// subscription, ledger or jobs rows.
    @Test func aUserCannotWriteTheirOwnMoneyOrJobs() throws {
        let (conn, a, _) = try twoSeededUsers()
        let job = try conn.query("select id from public.jobs where user_id = $1::uuid", [a])[0].uuid("id")
        try conn.query("delete from public.subscriptions where user_id = $1::uuid", [a])

        try beginAsUser(conn, a)
        try expectRefused(conn, "insert into public.subscriptions (user_id, tier, credits_balance) values ($1::uuid, 'enterprise', 1000000)", [a])
        try conn.execute("rollback")
        try conn.query("insert into public.subscriptions (user_id, credits_balance) values ($1::uuid, 5)", [a])

        try beginAsUser(conn, a)
        try expectRefused(conn, "update public.subscriptions set credits_balance = 1000000, tier = 'enterprise' where user_id = $1::uuid", [a])
        try expectRefused(conn, "delete from public.subscriptions where user_id = $1::uuid", [a])
        try expectRefused(conn, "insert into public.credit_transactions (user_id, type, amount, note) values ($1::uuid, 'purchase', 1000000, 'free money')", [a])
        try expectRefused(conn, "update public.credit_transactions set amount = 1 where user_id = $1::uuid", [a])
        try expectRefused(conn, "delete from public.credit_transactions where user_id = $1::uuid", [a])
        try expectRefused(conn, "insert into public.jobs (kind, user_id, max_attempts, state) values ('system.noop', $1::uuid, 1, 'completed')", [a])
        try expectRefused(conn, "update public.jobs set state = 'completed', credits_used = 0 where id = $1::uuid", [job])
        try expectRefused(conn, "delete from public.jobs where id = $1::uuid", [job])
        try conn.execute("rollback")

        let account = try conn.query("select tier::text as tier, credits_balance from public.subscriptions where user_id = $1::uuid", [a])[0]
        #expect(try account.string("tier") == "free" && account.int("credits_balance") == 5)
        #expect(try conn.query("select state::text as state from public.jobs where id = $1::uuid", [job])[0].string("state") == "available")
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
