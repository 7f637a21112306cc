import Foundation
import ReelCore
import ReelRender
import ReelTestSupport
import Testing

extension ProviderStage {
    /// The exported film of workflow run `run`, in `node`'s storage.
    func filmFile(run: UUID, node: ReeldProcess) async throws -> URL {
        let film = try #require(try await job(run).result?["film_asset_id"]?.stringValue, "the run names its film")
        let key = try await database.query("select storage_key from public.assets where id = $1::uuid", [film])[0].string("storage_key")
        let url = node.settings.directory.appendingPathComponent("storage").appendingPathComponent(key)
        try #require(FileManager.default.fileExists(atPath: url.path), "the film \(url.path) exists")
        return url
    }

    /// Seconds the project's timeline overlaps its clips by (the crossfades between them).
    func timelineOverlap(node: ReeldProcess) async throws -> Double {
        let key = try await database.query(
            "select storage_key from public.assets where project_id = $1::uuid and role = 'timeline'", [project])[0].string("storage_key")
        let timeline = try Timeline(json: Data(contentsOf: node.settings.directory.appendingPathComponent("storage").appendingPathComponent(key)))
        return timeline.video.compactMap { $0.transition?.duration }.reduce(0, +)
    }
}
