import Foundation
import ReelBlocking
import ReelCore
import ReelDB
import ReelProviders
import ReelQueue
import ReelStorage
import ReelTestSupport
import Testing

@testable import ReelStudio

@Suite struct StudioStoreTests {
    /// Whoever writes `assets.duration_seconds` (reeld's own role may write anything): a NaN,
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
        await #expect(throws: JobError.self) { _ = try await store.asset(id: asset, project: project) }
    }

    /// A job's args may name any asset id: a generation reads only its own project's assets,
    /// and refuses another user's (whose file it would otherwise send to the provider).
    @Test func aGenerationReadsOnlyItsOwnProjectsAssets() async throws {
        let database = try TestDatabase.makePool(connections: 2)
        defer { database.close() }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("reeld-assets-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        func image(of user: UUID, in project: UUID, _ key: String) async throws -> UUID {
            try await database.query(
                """
                insert into public.assets (user_id, project_id, kind, role, storage_key, mime_type, size_bytes, sha256)
                values ($1::uuid, $2::uuid, 'image', 'image', $3, 'image/png', 1, 'x') returning id
                """, [user, project, key])[0].uuid("id")
        }
        let a = try await TestDatabase.makeUser(database), b = try await TestDatabase.makeUser(database)
        let aProject = try await TestDatabase.makeProject(database, user: a), bProject = try await TestDatabase.makeProject(database, user: b)
        let own = try await image(of: a, in: aProject, "projects/a/images/own.png")
        let theirs = try await image(of: b, in: bProject, "projects/b/images/private.png")
        let queue = JobQueue(database: database)
        for reference in [theirs, own] {
            _ = try await queue.submit(JobSubmission(
                kind: .image, args: ["prompt": "x", "reference_asset_id": .string(reference.lowercasedText)], projectID: aProject))
        }
        let jobs = try await queue.claim(owner: "t", limit: 10, lease: .seconds(30))
        let byReference = Dictionary(uniqueKeysWithValues: jobs.map { ($0.args["reference_asset_id"]?.stringValue, $0) })
        let handler = GenerationHandler(
            kind: .image, store: StudioStore(database: database),
            storage: MediaStorage(storage: LocalStorage(root: root), pool: BlockingPool(maxThreads: 1)),
            providers: ProviderRegistry(providers: [:], defaultName: "local"), scratchRoot: root)

        let stealing = try #require(byReference[theirs.lowercasedText])
        await #expect { _ = try await handler.makeRequest(job: stealing, generation: UUID()) } throws: { error in
            guard let error = error as? JobError else { return false }
            return error.failureClass == .permanent && error.message.contains("args.reference_asset_id")
                && error.message.contains(theirs.lowercasedText)
        }
        let request = try await handler.makeRequest(job: try #require(byReference[own.lowercasedText]), generation: UUID())
        #expect(request.referenceImages == [root.appendingPathComponent("projects/a/images/own.png")])
    }
}
