import Foundation
import Logging
import ReelBlocking
import ReelCore
import ReelDB
import ReelProviders
import ReelQueue
import ReelRender
import ReelStorage
import ReelTestSupport
import Testing

@testable import ReelStudio

/// A `render.export` cancelled while it renders stops at its next progress write, and leaves
/// no film, preview or other export behind.
@Suite struct RenderExportCancelTests {
    @Test func aRunningExportCancelledStopsAndLeavesNoExport() async throws {
        let database = try TestDatabase.makePool()
        defer { database.close() }
        let queue = JobQueue(database: database)
        let user = try await TestDatabase.makeUser(database)
        let project = try await TestDatabase.makeProject(database, user: user)
        _ = try await CreditLedger(database: database).purchase(user: user, credits: 1_000_000)
        // The steps before the export, as far as submit_job checks them: a storyboard and a timeline.
        try await database.query("update projects set storyboard = '{\"title\": \"t\"}' where id = $1::uuid", [project])
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("reeld-export-cancel-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let storageRoot = root.appendingPathComponent("storage")
        let storage = LocalStorage(root: storageRoot)
        let store = StudioStore(database: database)

        // One clip, used thirty times with crossfades at 640x360 and x264's "medium": a render of
        // many seconds, far longer than the one-second progress write at which it learns of the cancel.
        let made = root.appendingPathComponent("clip.mp4")
        try ClipSynthesizer.makeClip(
            from: RGBImage(width: 32, height: 18, red: 200, green: 40, blue: 40), to: RGBImage(width: 32, height: 18, red: 40, green: 40, blue: 200),
            options: .init(width: 640, height: 360, framesPerSecond: 25, seconds: 2), writingTo: made)
        let clipFile = try storage.store(made, project: project, name: "clip.mp4", mimeType: "video/mp4")
        let clip = try await store.database.transaction { conn in
            try store.recordAsset(StoredMedia(file: clipFile, media: try MediaProbe.probe(clipFile.url)), user: user, project: project, scene: nil, kind: .video, role: .clip, on: conn)
        }
        let clips = (0..<30).map {
            TimelineClip(id: "s\($0)", asset: clip.lowercasedText, in: 0, out: 2, transition: $0 < 29 ? Transition(duration: 0.5) : nil)
        }
        let timeline = Timeline(video: clips, output: TimelineOutput(width: 640, height: 360, fps: 25, preset: "medium"))
        let timelineFile = root.appendingPathComponent("timeline.json")
        try timeline.jsonData.write(to: timelineFile)
        let storedTimeline = try storage.store(timelineFile, project: project, name: "timeline.json", mimeType: "application/json")
        let timelineAsset = try await store.database.transaction { conn in
            try store.recordAsset(StoredMedia(file: storedTimeline, media: nil), user: user, project: project, scene: nil, kind: .timeline, role: .timeline, on: conn)
        }
        let job = try await queue.submit(JobSubmission(
            kind: .export, args: ["timeline_asset_id": .string(timelineAsset.lowercasedText)], projectID: project)).jobID

        let blocking = BlockingPool(maxThreads: StudioHandlers.threadsNeeded(renderWorkers: 1), name: "test-blocking")
        let handlers = try StudioHandlers(
            database: database, storageRoot: storageRoot, providers: ProviderRegistry(providers: [:], defaultName: "local"), renderWorkers: 1,
            threadsPerRender: 2, renderCacheDirectory: root.appendingPathComponent("cache"), renderCacheBudgetBytes: 1 << 30, blocking: blocking
        ).registry()
        let worker = QueueWorker(
            queue: queue, handlers: handlers, configuration: .init(workers: 1, heartbeatInterval: .seconds(1)), listenURL: nil,
            logger: TestDatabase.logger)

        func row() async throws -> (state: String, progress: Double) {
            let found = try await database.query("select state::text as state, progress::float8 as progress from public.jobs where id = $1::uuid", [job])[0]
            return (try found.string("state"), try found.double("progress"))
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await worker.run() }
            // The render is under way once it has written progress to the row.
            try await Poll.until("the export to record progress", timeout: .seconds(120)) {
                let now = try await row()
                #expect(now.state == "running" || now.state == "available", "\(now)")
                return now.state == "running" && now.progress > 0
            }
            let before = try await row().progress
            let asked = ContinuousClock.now
            #expect(try await queue.cancel(job: job) == .running)
            try await Poll.until("the export to be cancelled", timeout: .seconds(60)) { try await row().state == "cancelled" }
            let took = ContinuousClock.now - asked
            // Logically bounded: it stopped at the write after the cancel, far from the end.
            let after = try await row().progress
            #expect(after < 0.9, "the render ran on to \(after) after the cancel at \(before)")
            // The write comes every second, so the cancel lands within about two; five allows a loaded machine.
            #expect(took < .seconds(5), "took \(took) to cancel")
            group.cancelAll()
        }
        let exports = storageRoot.appendingPathComponent("projects/\(project.lowercasedText)/exports")
        let left = (try? FileManager.default.contentsOfDirectory(atPath: exports.path)) ?? []
        #expect(left == [storedTimeline.url.lastPathComponent], "left in exports: \(left)")
        let scratch = (try? FileManager.default.contentsOfDirectory(atPath: storageRoot.appendingPathComponent(".scratch").path)) ?? []
        #expect(scratch.isEmpty, "left in scratch: \(scratch)")
        let assets = try await database.query("select count(*)::int8 as n from public.assets where project_id = $1::uuid", [project])[0]
        #expect(try assets.int("n") == 2)
    }
}
