import Foundation
import ReelCore
import ReelQueue
import ReelRender
import ReelStorage

/// `render.edit` assembles the project's timeline from its assets; `render.export` renders a
/// timeline to an MP4. The timeline here is the minimal cut (scene clips in order, voiceover,
/// music bed); the full editor's timeline is a later issue.
struct RenderHandler: JobHandler {
    let store: StudioStore
    let storage: LocalStorage
    let scratchRoot: URL

    func run(_ job: ClaimedJob, context: JobContext) async throws -> JobOutcome {
        guard let project = job.projectID else { throw JobError.permanent("project_id: required for \(job.kind)") }
        let user = try await job.userID.orLoad { try await store.projectOwner(project) }
        switch job.kind {
        case .edit: return .completed(try await edit(job: job, project: project, user: user))
        case .export: return .completed(try await export(job: job, project: project, user: user, context: context))
        default: throw JobError.permanent("render handler cannot run \(job.kind)")
        }
    }

    private func edit(job: ClaimedJob, project: UUID, user: UUID) async throws -> JSONValue {
        let scenes = try await store.scenes(project: project)
        guard !scenes.isEmpty else { throw JobError.permanent("the project has no scenes: run the storyboard step first") }
        var clips: [JSONValue] = []
        for scene in scenes {
            guard let clip = try await store.asset(project: project, role: "clip", scene: scene.id) else {
                throw JobError.permanent("scene \(scene.index + 1) (\(scene.title)) has no clip: run the clips step first")
            }
            clips.append(["asset_id": .string(clip.id.lowercasedText), "scene_index": .int(Int64(scene.index))])
        }
        let voice = try await store.asset(project: project, role: "voiceover")
        let music = try await store.asset(project: project, role: "music")
        let timeline: JSONValue = [
            "version": 1,
            "video": .array(clips),
            "voiceover": voice.map { .string($0.id.lowercasedText) } ?? .null,
            "music": music.map { .string($0.id.lowercasedText) } ?? .null,
            "output": ["format": "mp4"],
        ]
        let directory = try scratch(job)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("timeline.json")
        try Data(timeline.jsonText.utf8).write(to: file)
        let stored = try storage.store(file, project: project, name: "timeline-\(job.id.uuidString.prefix(8).lowercased()).json",
                                       mimeType: "application/json", category: .exports)
        let id = try await store.database.transaction { [store] conn in
            try store.recordAsset(stored, user: user, project: project, scene: nil, kind: "timeline", role: "timeline", on: conn)
        }
        return ["timeline_asset_id": .string(id.lowercasedText), "clips": .int(Int64(clips.count))]
    }

    private func export(job: ClaimedJob, project: UUID, user: UUID, context: JobContext) async throws -> JSONValue {
        let timelineAsset: StudioStore.Asset?
        if let id = try job.args.uuid("timeline_asset_id") {
            timelineAsset = try await store.asset(id: id)
        } else {
            timelineAsset = try await store.asset(project: project, role: "timeline")
        }
        guard let timelineAsset else { throw JobError.permanent("no timeline for the project: run render.edit first") }
        let timeline = try JSONValue(parsing: Data(contentsOf: try storage.url(forKey: timelineAsset.storageKey)))
        var clips: [URL] = []
        for entry in timeline["video"]?.arrayValue ?? [] {
            clips.append(try await url(of: entry["asset_id"], field: "video[].asset_id"))
        }
        guard !clips.isEmpty else { throw JobError.permanent("timeline \(timelineAsset.id) has no clips") }
        let voice = timeline["voiceover"] == .null ? nil : try await url(of: timeline["voiceover"], field: "voiceover")
        let music = timeline["music"] == .null ? nil : try await url(of: timeline["music"], field: "music")

        let directory = try scratch(job)
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("film.mp4")
        context.reportProgress(0.1)
        do {
            _ = try await Blocking.run { [clips] in try FilmAssembler.assemble(clips: clips, voiceover: voice, music: music, writingTo: output) }
        } catch let error as MediaError {
            throw JobError.permanent("render failed: \(error)")
        }
        context.reportProgress(0.9)
        let name = "film-\(job.id.uuidString.prefix(8).lowercased()).mp4"
        let storage = self.storage
        let stored = try await Blocking.run { try storage.store(output, project: project, name: name, mimeType: "video/mp4", category: .exports) }
        let id = try await store.database.transaction { [store] conn in
            try store.recordAsset(stored, user: user, project: project, scene: nil, kind: "export", role: "film", on: conn)
        }
        return [
            "asset_id": .string(id.lowercasedText), "path": .string(stored.url.path),
            "duration_seconds": .double(stored.media?.durationSeconds ?? 0), "size_bytes": .int(stored.sizeBytes),
        ]
    }

    private func url(of value: JSONValue?, field: String) async throws -> URL {
        guard let text = value?.stringValue, let id = UUID(text: text), let asset = try await store.asset(id: id) else {
            throw JobError.permanent("timeline \(field): missing asset \(value?.stringValue ?? "null")")
        }
        return try storage.url(forKey: asset.storageKey)
    }

    private func scratch(_ job: ClaimedJob) throws -> URL {
        let directory = scratchRoot.appendingPathComponent(job.id.lowercasedText)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }
}
