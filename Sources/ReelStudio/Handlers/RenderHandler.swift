import Foundation
import ReelBlocking
import ReelCore
import ReelQueue
import ReelRender
import ReelStorage
import Synchronization

/// `render.edit` assembles the project's cut as a timeline (README.md, Render) from its assets;
/// `render.export` renders a timeline in the node's render pool: the film, a 360p preview, a
/// storyboard sheet, a thumbnail per clip and the cut as OpenTimelineIO, all kept as assets.
///
/// Progress goes to the job row every second while rendering, and a cancel asked for in the
/// meantime is seen at the next of those writes; the render then stops within a frame and its
/// partial files go with the job's scratch directory.
struct RenderHandler: JobHandler {
    let store: StudioStore
    let storage: MediaStorage
    let scratchRoot: URL
    let pool: RenderPool
    /// Where renders and probes run: libav blocks.
    let blocking: BlockingPool
    /// Normalised inputs, kept between renders.
    let cacheDirectory: URL
    /// Bytes `cacheDirectory` may hold after a render.
    let cacheBudgetBytes: Int64

    func run(_ job: ClaimedJob, context: JobContext) async throws -> JobOutcome {
        guard let project = job.projectID else { throw JobError.permanent("project_id: required for \(job.kind)") }
        let user = try await job.userID.orLoad { try await store.projectOwner(project) }
        do {
            switch job.kind {
            case .edit: return .completed(try await edit(job: job, project: project, user: user))
            case .export: return .completed(try await export(job: job, project: project, user: user, context: context))
            default: throw JobError.permanent("render handler cannot run \(job.kind)")
            }
        } catch let error as TimelineInvalid {
            throw JobError.permanent(error.description)
        } catch let error as MediaError {
            throw JobError.permanent("render failed: \(error)")
        }
    }

    // MARK: render.edit

    private func edit(job: ClaimedJob, project: UUID, user: UUID) async throws -> JSONValue {
        let scenes = try await store.scenes(project: project)
        guard !scenes.isEmpty else { throw JobError.permanent("the project has no scenes: run the storyboard step first") }
        var clips: [TimelineBuilder.Part] = []
        for scene in scenes {
            guard let clip = try await store.asset(project: project, role: .clip, scene: scene.id) else {
                throw JobError.permanent("scene \(scene.index + 1) (\(scene.title)) has no clip: run the clips step first")
            }
            clips.append(try part(clip))
        }
        let voice = try await store.asset(project: project, role: .voiceover).map(part)
        let music = try await store.asset(project: project, role: .music).map(part)
        let effect = try await store.asset(project: project, role: .soundEffect).map(part)
        let title = try await store.storyboard(project: project)?["title"]?.stringValue
        let first = try storage.url(forKey: clips[0].storageKey)
        let shape = try await blocking.run { try MediaProbe.probe(first) }
        let timeline = TimelineBuilder(title: title, clips: clips, voice: voice, music: music, effect: effect, shape: shape).timeline
        let catalog = Dictionary(uniqueKeysWithValues: (clips + [voice, music, effect].compactMap { $0 }).map { ($0.id, $0.facts) })
        try timeline.validate(assets: catalog)

        let directory = try scratch(job)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("timeline.json")
        try timeline.jsonData.write(to: file)
        let stored = try await storage.store(file, project: project, name: "timeline-\(short(job)).json", mimeType: "application/json", category: .exports)
        let id = try await store.database.transaction { [store] conn in
            try store.recordAsset(stored, user: user, project: project, scene: nil, kind: .timeline, role: .timeline, on: conn)
        }
        return [
            "timeline_asset_id": .string(id.lowercasedText), "clips": .int(Int64(clips.count)),
            "duration_seconds": .double(timeline.duration),
        ]
    }

    private func part(_ asset: StudioStore.Asset) throws -> TimelineBuilder.Part {
        TimelineBuilder.Part(
            id: asset.id.lowercasedText, storageKey: asset.storageKey,
            facts: TimelineAsset(durationSeconds: asset.durationSeconds, hasVideo: asset.hasVideo, hasAudio: asset.hasAudio))
    }

    // MARK: render.export

    private func export(job: ClaimedJob, project: UUID, user: UUID, context: JobContext) async throws -> JSONValue {
        let timelineAsset: StudioStore.Asset?
        if let id = try job.args.uuid("timeline_asset_id") {
            timelineAsset = try await store.asset(id: id, project: project)
        } else {
            timelineAsset = try await store.asset(project: project, role: .timeline)
        }
        guard let timelineAsset else { throw JobError.permanent("no timeline for the project: run render.edit first") }
        var timeline = try await load(timelineAsset, project: project)
        // A timeline too big to render is refused on its counts, before any asset is looked up or opened.
        let limits = timeline.limitProblems()
        if !limits.isEmpty { throw TimelineInvalid(limits) }
        if let format = job.args["format"]?.stringValue {
            guard let chosen = OutputFormat(rawValue: format) else { throw JobError.permanent("args.format: unknown format \(format)") }
            timeline.output.format = chosen
        }
        // The tier's largest export: args.height above it was refused at submit; a timeline that
        // asks for more is rendered at the tier's height, its width following the aspect.
        let allowance = try await store.exportAllowance(user: user)
        var notes: [JSONValue] = []
        if let height = job.args["height"]?.intValue { timeline.output.resize(toHeight: Int(height)) }
        if timeline.output.height > allowance.maxHeight {
            notes.append(.string("rendered at \(allowance.maxHeight)p, the most the \(allowance.tier) tier exports (the timeline asks for \(timeline.output.height)p)"))
            timeline.output.resize(toHeight: allowance.maxHeight)
        }
        // Only the project's own assets: a name that is not one of them is left unresolved, as
        // a missing asset is, and no other project's file is read.
        var media: [String: URL] = [:]
        for name in timeline.assetNames {
            guard let id = UUID(text: name), let asset = try await store.asset(id: id, project: project) else { continue }
            media[name] = try storage.url(forKey: asset.storageKey)
        }

        let directory = try scratch(job)
        defer { try? FileManager.default.removeItem(at: directory) }
        context.reportProgress(0)
        let products = try await pool.withSlot { threads in
            try await render(timeline, media: media, directory: directory, threads: threads, context: context)
        }
        context.reportProgress(0.99)

        let name = short(job)
        let format = timeline.output.format
        var thumbnails: [StoredMedia] = []
        for (n, url) in products.thumbnails.enumerated() {
            thumbnails.append(try await storage.store(url, project: project, name: "thumb-\(name)-\(n + 1).jpg", mimeType: "image/jpeg", category: .exports))
        }
        let stored = (
            film: try await storage.store(products.film, project: project, name: "film-\(name).\(format.fileExtension)", mimeType: format.mimeType, category: .exports),
            preview: try await storage.store(products.preview, project: project, name: "preview-\(name).mp4", mimeType: "video/mp4", category: .exports),
            storyboard: try await storage.store(products.storyboard, project: project, name: "storyboard-\(name).png", mimeType: "image/png", category: .exports),
            thumbnails: thumbnails,
            otio: try await storage.store(products.otio, project: project, name: "cut-\(name).otio", mimeType: "application/json", category: .exports)
        )
        let ids = try await store.database.transaction { [store] conn in
            (
                film: try store.recordAsset(stored.film, user: user, project: project, scene: nil, kind: .export, role: .film, on: conn),
                preview: try store.recordAsset(stored.preview, user: user, project: project, scene: nil, kind: .export, role: .preview, on: conn),
                storyboard: try store.recordAsset(stored.storyboard, user: user, project: project, scene: nil, kind: .image, role: .storyboard, on: conn),
                thumbnails: try stored.thumbnails.map { try store.recordAsset($0, user: user, project: project, scene: nil, kind: .image, role: .thumbnail, on: conn) },
                otio: try store.recordAsset(stored.otio, user: user, project: project, scene: nil, kind: .timeline, role: .otio, on: conn)
            )
        }
        func text(_ id: UUID) -> JSONValue { .string(id.lowercasedText) }
        return [
            "asset_id": text(ids.film), "path": .string(stored.film.file.url.path),
            "duration_seconds": .double(stored.film.media?.durationSeconds ?? 0), "size_bytes": .int(stored.film.file.sizeBytes),
            "method": .string(products.report.method.rawValue),
            "copied_fraction": .double((products.report.copiedFraction * 1000).rounded() / 1000),
            "loudness_lufs": products.report.loudness.map { .double(($0 * 10).rounded() / 10) } ?? .null,
            "preview_asset_id": text(ids.preview), "storyboard_asset_id": text(ids.storyboard),
            "thumbnail_asset_ids": .array(ids.thumbnails.map(text)), "otio_asset_id": text(ids.otio),
            "height": .int(Int64(timeline.output.height)), "notes": .array(notes),
        ]
    }

    /// What one export made, in the scratch directory.
    struct Products: Sendable {
        var report: RenderReport
        var film: URL
        var preview: URL
        var storyboard: URL
        var thumbnails: [URL]
        var otio: URL
    }

    /// Renders on the blocking pool (libav blocks), writing progress to the job row every
    /// second, and stops the render when the job's task is cancelled.
    private func render(_ timeline: Timeline, media: [String: URL], directory: URL, threads: Int, context: JobContext) async throws -> Products {
        let latest = Progress()
        let control = RenderControl { fraction in latest.value.withLock { $0 = fraction } }
        let cache = cacheDirectory, budget = cacheBudgetBytes, blocking = blocking
        return try await withThrowingTaskGroup(of: Products?.self) { group in
            group.addTask {
                try await withTaskCancellationHandler {
                    try await blocking.run {
                        try Self.produce(
                            timeline, media: media, directory: directory, threads: threads, cache: cache, cacheBudgetBytes: budget,
                            control: control, blocking: blocking)
                    }
                } onCancel: {
                    control.cancel()
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    if Task.isCancelled { break }
                    do {
                        // A requested cancel cancels this task group through the worker.
                        try await context.recordProgress(0.98 * latest.value.withLock { $0 })
                    } catch {
                        context.logger.warning("Could not record render progress", metadata: ["error": "\(error)"])
                    }
                }
                return nil
            }
            defer { group.cancelAll() }
            while let next = try await group.next() {
                if let products = next { return products }
            }
            throw CancellationError()
        }
    }

    /// The blocking part: the film, then what is made from it.
    static func produce(
        _ timeline: Timeline, media: [String: URL], directory: URL, threads: Int, cache: URL, cacheBudgetBytes: Int64? = nil, control: RenderControl,
        blocking: BlockingPool? = nil
    ) throws -> Products {
        let film = directory.appendingPathComponent("film.\(timeline.output.format.fileExtension)")
        let renderer = TimelineRenderer(
            options: .init(threads: threads, normalizedDirectory: cache, normalizedCacheBudget: cacheBudgetBytes), blocking: blocking)
        let report = try renderer.render(timeline, media: media, to: film, control: control.stage(from: 0, to: 0.9))
        let preview = directory.appendingPathComponent("preview.mp4")
        try PreviewProxy.make(from: film, to: preview, threads: threads, control: control.stage(from: 0.9, to: 0.98))
        try control.checkCancelled()
        let storyboard = directory.appendingPathComponent("storyboard.png")
        try Thumbnailer.writeStoryboard(of: film, timeline: timeline, to: storyboard)
        let thumbnails = try Thumbnailer.writeJPEGs(
            of: film, at: Thumbnailer.representativeTimes(of: timeline), width: 480, to: directory, prefix: "thumb")
        let otio = directory.appendingPathComponent("cut.otio")
        let (_, catalog) = TimelineRenderer.inspect(timeline, media: media)
        try Data(timeline.openTimelineIO(assets: catalog) { media[$0]?.absoluteString }.jsonText.utf8).write(to: otio)
        control.progress(1, force: true)
        return Products(report: report, film: film, preview: preview, storyboard: storyboard, thumbnails: thumbnails, otio: otio)
    }

    /// The latest progress, shared between the render thread and the reporting task.
    final class Progress: Sendable {
        let value = Mutex(0.0)
    }

    // MARK: Helpers

    /// A stored timeline; version 1 (the minimal cut written before) is upgraded, from the
    /// project's own assets.
    private func load(_ asset: StudioStore.Asset, project: UUID) async throws -> Timeline {
        let data = try Data(contentsOf: try storage.url(forKey: asset.storageKey))
        let json = try JSONValue(parsing: data)
        guard json["version"]?.intValue == 1 else { return try Timeline(json: data) }
        var clips: [TimelineBuilder.Part] = []
        for (i, entry) in (json["video"]?.arrayValue ?? []).enumerated() {
            guard let id = entry["asset_id"]?.stringValue.flatMap(UUID.init(uuidString:)), let clip = try await store.asset(id: id, project: project) else {
                throw TimelineInvalid(element: "video[\(i)]", "asset \(entry["asset_id"]?.stringValue ?? "null") is missing")
            }
            clips.append(try part(clip))
        }
        guard !clips.isEmpty else { throw TimelineInvalid(element: "video", "needs at least one clip") }
        func optional(_ key: String) async throws -> TimelineBuilder.Part? {
            guard let id = json[key]?.stringValue.flatMap(UUID.init(uuidString:)), let asset = try await store.asset(id: id, project: project) else { return nil }
            return try part(asset)
        }
        let first = try storage.url(forKey: clips[0].storageKey)
        let shape = try await blocking.run { try MediaProbe.probe(first) }
        var builder = TimelineBuilder(title: nil, clips: clips, voice: try await optional("voiceover"), music: try await optional("music"), effect: nil, shape: shape)
        builder.transitions = false
        return builder.timeline
    }

    private func short(_ job: ClaimedJob) -> String { String(job.id.uuidString.prefix(8)).lowercased() }

    private func scratch(_ job: ClaimedJob) throws -> URL {
        let directory = scratchRoot.appendingPathComponent(job.id.lowercasedText)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }
}
