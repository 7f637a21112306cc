import Foundation
import ReelCore
import ReelRender
import Testing

@Suite struct FastPathAndNormalisationTests {
    @Test func cutsOfCompatibleClipsAreStreamCopiedWithTheirLength() throws {
        try TestMedia.withTemporaryDirectory { dir in
            let a = try RenderFixtures.clip(RenderFixtures.red, seconds: 1.2, in: dir, name: "a.mp4")
            let b = try RenderFixtures.clip(RenderFixtures.blue, seconds: 1.2, in: dir, name: "b.mp4")
            let timeline = Timeline(
                video: [
                    TimelineClip(id: "s1", asset: "a", in: 0, out: 1.2), TimelineClip(id: "s2", asset: "b", in: 0, out: 0.8),
                    TimelineClip(id: "s3", asset: "a", in: 0, out: 1.2),
                ],
                output: RenderFixtures.output())
            let film = dir.appendingPathComponent("film.mp4")
            let report = try TimelineRenderer().render(timeline, media: ["a": a, "b": b], to: film)
            #expect(report.method == .streamCopy)
            let facts = try MediaProbe.probe(film)
            #expect(facts.videoCodec == "h264" && facts.audioCodec == "aac" && facts.width == 320)
            #expect(abs((facts.videoStream?.durationSeconds ?? 0) - 3.2) <= 1 / RenderFixtures.fps)
            var colours: [Double] = []
            try VideoFrameReader.forEachFrame(in: film) { _, image in colours.append(RenderFixtures.meanColor(image).b) }
            #expect(colours.count == 80)
            // The blue clip sits between frames 30 and 50, cut short at its out point.
            #expect(colours[29] < 100 && colours[30] > 150 && colours[49] > 150 && colours[50] < 100)
        }
    }

    @Test func aClipStartingBetweenKeyframesIsRenderedTheFullWay() throws {
        try TestMedia.withTemporaryDirectory { dir in
            let a = try RenderFixtures.clip(RenderFixtures.red, seconds: 1.2, in: dir, name: "a.mp4")
            let timeline = Timeline(
                video: [TimelineClip(id: "s1", asset: "a", in: 0, out: 1.2), TimelineClip(id: "s2", asset: "a", in: 0.4, out: 1.2)],
                output: RenderFixtures.output())
            let film = dir.appendingPathComponent("film.mp4")
            let report = try TimelineRenderer().render(timeline, media: ["a": a], to: film)
            #expect(report.method == .filterGraph)
            #expect(report.fullRenderReason?.contains("not on a keyframe") == true)
            #expect(abs((try MediaProbe.probe(film).videoStream?.durationSeconds ?? 0) - 2.0) <= 1 / RenderFixtures.fps)
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".") }.isEmpty)
        }
    }

    @Test func aCopiedCutStillGetsItsMixedSoundtrackAtTheLoudnessTarget() throws {
        try TestMedia.withTemporaryDirectory { dir in
            let a = try RenderFixtures.clip(RenderFixtures.red, seconds: 3, in: dir, name: "a.mp4")
            let music = try RenderFixtures.tone(frequency: 220, amplitude: 0.1, seconds: 3, in: dir, name: "music.wav")
            let timeline = Timeline(
                video: [TimelineClip(id: "s1", asset: "a", in: 0, out: 3)],
                audio: TimelineAudio(music: MusicBed(asset: "music", fadeIn: 0.2, ducking: nil)),
                output: RenderFixtures.output(loudness: -18))
            let film = dir.appendingPathComponent("film.mp4")
            let report = try TimelineRenderer().render(timeline, media: ["a": a, "music": music], to: film)
            #expect(report.method == .streamCopy)
            let measured = try #require(BS1770.integratedLoudness(try AudioFile.read(film)))
            #expect(abs(measured + 18) <= 1, "measured \(measured) LUFS")
        }
    }

    @Test func inputsOfAnotherShapeAreNormalisedOnceAndThenCopied() throws {
        try TestMedia.withTemporaryDirectory { dir in
            let odd = try RenderFixtures.clip(RenderFixtures.blue, seconds: 1, in: dir, name: "odd.mp4", width: 256, height: 144, fps: 24)
            let cache = dir.appendingPathComponent("cache")
            let renderer = TimelineRenderer(options: .init(threads: 2, normalizedDirectory: cache))
            let timeline = Timeline(
                video: [TimelineClip(id: "s1", asset: "odd", in: 0, out: 1), TimelineClip(id: "s2", asset: "odd", in: 0, out: 1)],
                output: RenderFixtures.output())
            let first = try renderer.render(timeline, media: ["odd": odd], to: dir.appendingPathComponent("one.mp4"))
            #expect(first.normalized == ["odd"])
            let cached = try FileManager.default.contentsOfDirectory(atPath: cache.path)
            #expect(cached.count == 1)
            let normalised = try MediaProbe.probe(cache.appendingPathComponent(cached[0]))
            #expect(normalised.width == 320 && normalised.height == 180 && normalised.videoStream?.framesPerSecond == 25)
            #expect(normalised.audioStream?.sampleRate == 48_000 && normalised.audioStream?.channels == 2)
            let second = try renderer.render(timeline, media: ["odd": odd], to: dir.appendingPathComponent("two.mp4"))
            #expect(second.normalized.isEmpty)
            #expect(try FileManager.default.contentsOfDirectory(atPath: cache.path) == cached)
            // Normalised clips share codec headers and start on keyframes, so a hard cut of them is copied.
            #expect(first.method == .streamCopy && second.method == .streamCopy)
            for name in ["one.mp4", "two.mp4"] {
                let facts = try MediaProbe.probe(dir.appendingPathComponent(name))
                #expect(facts.width == 320 && abs((facts.videoStream?.durationSeconds ?? 0) - 2) <= 1 / RenderFixtures.fps)
            }
        }
    }

    @Test func aStillImageIsHeldForTheLengthOfItsClip() throws {
        try TestMedia.withTemporaryDirectory { dir in
            let still = dir.appendingPathComponent("still.png")
            try ImageIO.writePNG(RGBImage(width: 400, height: 300, red: 30, green: 200, blue: 60), to: still)
            let clip = try RenderFixtures.clip(RenderFixtures.red, seconds: 1, in: dir, name: "clip.mp4")
            let timeline = Timeline(
                video: [TimelineClip(id: "card", asset: "still", in: 0, out: 1.5, transition: Transition(duration: 0.2)), TimelineClip(id: "s2", asset: "clip", in: 0, out: 1)],
                output: RenderFixtures.output())
            let film = dir.appendingPathComponent("film.mp4")
            try TimelineRenderer().render(timeline, media: ["still": still, "clip": clip], to: film)
            var frames = 0
            try VideoFrameReader.forEachFrame(in: film) { _, _ in frames += 1 }
            #expect(frames == 58)
            let images = try FrameGrabber.images(of: film, at: [0.1, 1.0, 2.0])
            let centre = 80..<240
            let (first, held, last) = (
                RenderFixtures.meanColor(images[0], x: centre), RenderFixtures.meanColor(images[1], x: centre), RenderFixtures.meanColor(images[2], x: centre)
            )
            #expect(first.g > 150 && held.g > 150 && last.r > 180)
            // 4:3 into 16:9: bars at the sides.
            #expect(RenderFixtures.meanColor(images[1], x: 0..<30).g < 30)
        }
    }
}
