import Foundation
import ReelCore
import ReelRender
import Testing

/// The mixed path: transitions and overlays re-encoded, the rest copied from normalised clips.
@Suite struct MixedPathTests {
    /// Three moving clips of another size (so the renderer normalises them), each 3 s at 25 fps:
    /// a warm one, a cool one, a warm one (each pushing in, so no two frames are alike); returned as the normalised files in `cache`.
    static func normalisedClips(in dir: URL, cache: URL) throws -> [String: URL] {
        var media: [String: URL] = [:]
        let options = ClipSynthesizer.Options(width: 384, height: 216, framesPerSecond: 25, seconds: 3, zoom: 0.15)
        let pictures = [(TestMedia.warm, TestMedia.warm), (TestMedia.cool, TestMedia.cool), (TestMedia.warm, TestMedia.warm)]
        let renderer = TimelineRenderer(options: .init(threads: 2, normalizedDirectory: cache))
        for (i, (from, to)) in pictures.enumerated() {
            try ClipSynthesizer.makeClip(from: from, to: to, options: options, writingTo: dir.appendingPathComponent("source\(i).mp4"))
            let before = Set((try? FileManager.default.contentsOfDirectory(atPath: cache.path)) ?? [])
            // A one-clip render normalises the clip into the cache; the new file there is it.
            let timeline = Timeline(video: [TimelineClip(id: "c", asset: "c", in: 0, out: 3)], output: RenderFixtures.output())
            try renderer.render(timeline, media: ["c": dir.appendingPathComponent("source\(i).mp4")], to: dir.appendingPathComponent("one\(i).mp4"))
            let made = try #require(Set(try FileManager.default.contentsOfDirectory(atPath: cache.path)).subtracting(before).first)
            media["clip\(i)"] = cache.appendingPathComponent(made)
        }
        return media
    }

    /// Crossfades of 0.6 s between the three clips and a title from 0.2 to 0.8 s: 7.8 s, 195 frames.
    static func timeline(title: Bool = true) -> Timeline {
        Timeline(
            video: [
                TimelineClip(id: "s1", asset: "clip0", in: 0, out: 3, transition: Transition(type: .fade, duration: 0.6)),
                TimelineClip(id: "s2", asset: "clip1", in: 0, out: 3, transition: Transition(type: .fade, duration: 0.6)),
                TimelineClip(id: "s3", asset: "clip2", in: 0, out: 3),
            ],
            overlays: title
                ? [TextOverlay(id: "title", text: "A title over the mix", font: "DejaVu Sans Bold", size: 24, color: "#ffffff",
                               box: TextBox(color: "#000000", padding: 6), x: 0.5, y: 0.25, start: 0.2, end: 0.8)]
                : [],
            output: RenderFixtures.output())
    }

    @Test func crossfadesAndATitleOverNormalisedClipsAreRenderedByTheMixedPath() throws {
        try TestMedia.withTemporaryDirectory { dir in
            let media = try Self.normalisedClips(in: dir, cache: dir.appendingPathComponent("cache"))
            let film = dir.appendingPathComponent("film.mp4")
            let report = try TimelineRenderer().render(Self.timeline(), media: media, to: film)
            #expect(report.method == .mixed, "\(report.fullRenderReason ?? "")")
            #expect(report.copiedFraction > 0.4 && report.copiedFraction < 0.9)

            let facts = try MediaProbe.probe(film)
            #expect(facts.videoCodec == "h264" && facts.audioCodec == "aac" && facts.width == 320 && facts.height == 180)
            #expect(abs((facts.videoStream?.durationSeconds ?? 0) - 7.8) <= 1 / RenderFixtures.fps)
            var times: [Double] = []
            try VideoFrameReader.forEachFrame(in: film) { seconds, _ in times.append(seconds) }
            #expect(times.count == 195)
            #expect(zip(times, times.dropFirst()).allSatisfy { abs($1 - $0 - 0.04) < 0.001 }, "frames are not evenly spaced")

            // The copied share is really the clips' own packets, byte for byte.
            var sourcePackets = Set<[UInt8]>()
            for url in media.values { for packet in try VideoPacketReader.packets(in: url) { sourcePackets.insert(packet.bytes) } }
            let written = try VideoPacketReader.packets(in: film)
            let copied = written.filter { sourcePackets.contains($0.bytes) }.count
            #expect(abs(Double(copied) / Double(written.count) - report.copiedFraction) < 0.02, "\(copied) of \(written.count) packets are the sources'")
        }
    }

    @Test func copiedFramesAreTheSourcesFramesAndTransitionsMixBothClips() throws {
        try TestMedia.withTemporaryDirectory { dir in
            let media = try Self.normalisedClips(in: dir, cache: dir.appendingPathComponent("cache"))
            let film = dir.appendingPathComponent("film.mp4")
            let report = try TimelineRenderer().render(Self.timeline(), media: media, to: film)
            try #require(report.method == .mixed)
            // 1.6 s lies in the first clip's copied span (its keyframe at 1 s to the fade at 2.4 s).
            let copied = try FrameGrabber.images(of: film, at: [1.6])[0]
            let source = try FrameGrabber.images(of: media["clip0"]!, at: [1.56, 1.6, 1.64])
            #expect(RenderFixtures.difference(copied, source[1], rows: 0..<180) == 0, "the copied frame differs from the source's")
            #expect(RenderFixtures.difference(copied, source[0], rows: 0..<180) > 0 && RenderFixtures.difference(copied, source[2], rows: 0..<180) > 0)

            // Second clip: 0.5 s into it is film 2.9 s, the fade's last frames; 2.7 s is the fade's middle.
            let film27 = try FrameGrabber.images(of: film, at: [2.7])[0]
            let outgoing = try FrameGrabber.images(of: media["clip0"]!, at: [2.7])[0]
            let incoming = try FrameGrabber.images(of: media["clip1"]!, at: [0.3])[0]
            let (mixed, a, b) = (RenderFixtures.meanColor(film27), RenderFixtures.meanColor(outgoing), RenderFixtures.meanColor(incoming))
            #expect(abs(a.b - b.b) > 60, "the clips are not different enough to see a mix")
            #expect(abs(mixed.r - (a.r + b.r) / 2) < 12 && abs(mixed.b - (a.b + b.b) / 2) < 12, "\(mixed) is not halfway between \(a) and \(b)")
        }
    }

    @Test func theTitleChangesPixelsOnlyWhileShown() throws {
        try TestMedia.withTemporaryDirectory { dir in
            let media = try Self.normalisedClips(in: dir, cache: dir.appendingPathComponent("cache"))
            let plain = dir.appendingPathComponent("plain.mp4"), titled = dir.appendingPathComponent("titled.mp4")
            #expect(try TimelineRenderer().render(Self.timeline(title: false), media: media, to: plain).method == .mixed)
            #expect(try TimelineRenderer().render(Self.timeline(), media: media, to: titled).method == .mixed)
            let times = [0.08, 0.5, 0.92, 1.6, 5.0]
            let a = try FrameGrabber.images(of: plain, at: times), b = try FrameGrabber.images(of: titled, at: times)
            let box = 28..<62, below = 80..<180
            #expect(RenderFixtures.difference(a[1], b[1], rows: box) > 40, "no title in its box while shown")
            #expect(RenderFixtures.difference(a[1], b[1], rows: below) < 1.5, "the title changed pixels outside its box")
            for i in [0, 2, 3, 4] {
                #expect(RenderFixtures.difference(a[i], b[i], rows: 0..<180) < 1.5, "the title shows at \(times[i]) s")
            }
        }
    }

    @Test func clipsWithOtherHeadersAreRenderedTheFullWayWithTheReason() throws {
        try TestMedia.withTemporaryDirectory { dir in
            // The shape of the output, so nothing is normalised, but not x264's stitchable mezzanine.
            let options = ClipSynthesizer.Options(width: 320, height: 180, framesPerSecond: 25, seconds: 3)
            var media: [String: URL] = [:]
            for i in 0..<3 {
                let url = dir.appendingPathComponent("c\(i).mp4")
                try ClipSynthesizer.makeClip(from: TestMedia.warm, to: TestMedia.cool, options: options, writingTo: url)
                media["clip\(i)"] = url
            }
            try Self.expectRenderedTheFullWay(media: media, in: dir, because: "other codec headers than the segments' encoder")
        }
    }

    @Test func aCopiedFrameThatDoesNotDecodeSendsTheFilmTheFullWay() throws {
        try TestMedia.withTemporaryDirectory { dir in
            var media = try Self.normalisedClips(in: dir, cache: dir.appendingPathComponent("cache"))
            // Damage one frame in the middle of the second clip, in the span the mixed path copies
            // (its first keyframe after the crossfade in, at 1 s, up to the crossfade out at 2.4 s),
            // and nowhere else: the headers still match, so only the decode check can see it. A copy
            // of the normalised file, so that the cache keeps its own.
            let damaged = dir.appendingPathComponent("damaged.mp4")
            try FileManager.default.copyItem(at: try #require(media["clip1"]), to: damaged)
            let packet = try #require(try VideoPacketReader.packets(in: damaged).first { !$0.isKeyframe && $0.seconds >= 1.5 })
            var bytes = try Data(contentsOf: damaged)
            let range = try #require(bytes.range(of: Data(packet.bytes)))
            #expect(bytes.range(of: Data(packet.bytes), in: range.upperBound..<bytes.endIndex) == nil)
            // The slice data past the frame's first bytes (length prefix and slice header) scrambled.
            let start = range.lowerBound + min(32, packet.bytes.count / 4)
            for i in start..<min(range.upperBound, start + 64) { bytes[i] ^= 0x5A }
            try bytes.write(to: damaged)
            media["clip1"] = damaged

            // The full path re-encodes the damaged frame as the decoder concealed it.
            try Self.expectRenderedTheFullWay(media: media, in: dir, because: "damaged")
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".") }.isEmpty)
        }
    }

    /// Renders `timeline()` over `media` into `dir` and checks that it took the full path for
    /// `reason`, copied nothing, and still has every one of its 195 frames.
    static func expectRenderedTheFullWay(media: [String: URL], in dir: URL, because reason: String) throws {
        let film = dir.appendingPathComponent("film.mp4")
        let report = try TimelineRenderer().render(timeline(), media: media, to: film)
        #expect(report.method == .filterGraph && report.copiedFraction == 0)
        #expect(report.fullRenderReason?.contains(reason) == true, "\(report.fullRenderReason ?? "")")
        var frames = 0
        try VideoFrameReader.forEachFrame(in: film) { _, _ in frames += 1 }
        #expect(frames == 195)
    }

    @Test func cancellingAMixedRenderLeavesNoFile() throws {
        try TestMedia.withTemporaryDirectory { dir in
            let media = try Self.normalisedClips(in: dir, cache: dir.appendingPathComponent("cache"))
            let out = dir.appendingPathComponent("out")
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
            // Cancelled from its own progress report, a third of the way in: inside the mixed path,
            // the first part of the render that reports progress.
            let box = Shared<RenderControl?>(nil)
            let seen = Shared<Double>(0)
            let control = RenderControl(interval: .zero) { fraction in
                seen.value.withLock { $0 = max($0, fraction) }
                if fraction > 0.3 { box.value.withLock { $0 }?.cancel() }
            }
            box.value.withLock { $0 = control }
            #expect(throws: RenderCancelled.self) {
                try TimelineRenderer().render(Self.timeline(), media: media, to: out.appendingPathComponent("film.mp4"), control: control)
            }
            #expect(seen.value.withLock { $0 } < 0.9)
            #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).isEmpty)
        }
    }
}
