import Foundation
import ReelCore
import ReelDB
import ReelTestSupport
import Testing

@testable import ReelStudio

@Suite struct StudioStoreTests {
    /// The project's owner can write `assets.duration_seconds` under row-level security: a NaN,
    /// an infinity or a huge value there fails the job that reads the asset, permanently and
    /// with the asset named, instead of trapping the node when frames are counted from it.
    @Test(arguments: ["NaN", "Infinity", "-1", "1e19"])
    func anAssetWhoseDurationIsNotALengthFailsTheJobNamingIt(_ duration: String) async throws {
        let database = try TestDatabase.makePool(connections: 1)
        defer { database.close() }
        let user = try await TestDatabase.makeUser(database)
        let project = try await TestDatabase.makeProject(database, user: user)
        let asset = try await database.query(
            """
            insert into public.assets (user_id, project_id, kind, role, storage_key, mime_type, size_bytes, sha256, duration_seconds)
            values ($1::uuid, $2::uuid, 'video', 'clip', 'k', 'video/mp4', 1, 'x', $3::double precision) returning id
            """, [user, project, duration])[0].uuid("id")
        let store = StudioStore(database: database)
        await #expect { _ = try await store.asset(project: project, role: .clip) } throws: { error in
            guard let error = error as? JobError else { return false }
            return error.failureClass == .permanent && error.message.contains(asset.lowercasedText)
        }
        await #expect(throws: JobError.self) { _ = try await store.asset(id: asset) }
    }
}
