import Foundation
import Synchronization
import ReelCore
import ReelRender
import Testing

@testable import ReelStudio

/// What `render.export` makes from a timeline, without the database around it.
@Suite struct RenderExportTests {
    @Test func anExportMakesTheFilmPreviewStoryboardThumbnailsAndOTIO() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reeld-export-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let options = ClipSynthesizer.Options(width: 320, height: 180, framesPerSecond: 25, seconds: 2)
        let a = dir.appendingPathComponent("a.mp4"), b = dir.appendingPathComponent("b.mp4")
        try ClipSynthesizer.makeClip(from: RGBImage(width: 32, height: 18, red: 200, green: 40, blue: 40), to: nil, options: options, writingTo: a)
        try ClipSynthesizer.makeClip(from: RGBImage(width: 32, height: 18, red: 40, green: 40, blue: 200), to: nil, options: options, writingTo: b)
        let shape = try MediaProbe.probe(a)
        let part = { (id: String) in
            TimelineBuilder.Part(id: id, storageKey: id, facts: TimelineAsset(durationSeconds: 2, hasVideo: true, hasAudio: true))
        }
        let timeline = TimelineBuilder(title: "Two Colours", clips: [part("a"), part("b")], voice: nil, music: nil, effect: nil, shape: shape).timeline
        let seen = Shared()
        let control = RenderControl(interval: .zero) { fraction in seen.last.withLock { $0 = fraction } }
        let products = try RenderHandler.produce(
            timeline, media: ["a": a, "b": b], directory: dir, threads: 2, cache: dir.appendingPathComponent("cache"), control: control)
        #expect(products.report.method == .filterGraph)
        #expect(abs((products.report.facts.videoStream?.durationSeconds ?? 0) - 3.5) <= 0.04)
        let preview = try MediaProbe.probe(products.preview)
        #expect(preview.height == 180 && preview.videoCodec == "h264")
        #expect(try ImageIO.read(products.storyboard).width > 320)
        #expect(products.thumbnails.count == 2)
        let otio = try JSONValue(parsing: Data(contentsOf: products.otio))
        #expect(otio["OTIO_SCHEMA"] == "Timeline.1")
        #expect(otio["tracks"]?["children"]?.arrayValue?.first?["children"]?.arrayValue?[0]["media_reference"]?["target_url"]?.stringValue == a.absoluteString)
        #expect(seen.last.withLock { $0 } == 1)
    }

    final class Shared: Sendable {
        let last = Mutex(0.0)
    }
}
