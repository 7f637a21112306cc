import Foundation
import ReelCore
import ReelRender
import Testing

@Suite struct StillsAndPreviewTests {
    /// Three one-second scenes, red, blue, grey, with hard cuts.
    static func film(in dir: URL) throws -> (URL, Timeline) {
        let red = try RenderFixtures.clip(RenderFixtures.red, seconds: 1, in: dir, name: "red.mp4")
        let blue = try RenderFixtures.clip(RenderFixtures.blue, seconds: 1, in: dir, name: "blue.mp4")
        let grey = try RenderFixtures.clip(RenderFixtures.grey, seconds: 1, in: dir, name: "grey.mp4")
        let timeline = Timeline(
            video: [
                TimelineClip(id: "s1", asset: "red", in: 0, out: 1), TimelineClip(id: "s2", asset: "blue", in: 0, out: 1),
                TimelineClip(id: "s3", asset: "grey", in: 0, out: 1),
            ],
            output: RenderFixtures.output())
        let film = dir.appendingPathComponent("film.mp4")
        try TimelineRenderer().render(timeline, media: ["red": red, "blue": blue, "grey": grey], to: film)
        return (film, timeline)
    }

    @Test func aThumbnailPerClipShowsThatClip() throws {
        try TestMedia.withTemporaryDirectory { dir in
            let (film, timeline) = try Self.film(in: dir)
            #expect(Thumbnailer.representativeTimes(of: timeline) == [0.48, 1.48, 2.48])
            let files = try Thumbnailer.writeJPEGs(of: film, at: Thumbnailer.representativeTimes(of: timeline), width: 160, to: dir)
            #expect(files.map(\.lastPathComponent) == ["thumb-1.jpg", "thumb-2.jpg", "thumb-3.jpg"])
            let images = try files.map { try ImageIO.read($0) }
            #expect(images.allSatisfy { $0.width == 160 && $0.height == 90 })
            let colours = images.map { RenderFixtures.meanColor($0) }
            #expect(colours[0].r > 180 && colours[1].b > 180 && abs(colours[2].r - colours[2].b) < 20)
        }
    }

    @Test func theStoryboardIsAGridOfNumberedSceneStarts() throws {
        try TestMedia.withTemporaryDirectory { dir in
            let (film, timeline) = try Self.film(in: dir)
            let sheet = dir.appendingPathComponent("storyboard.png")
            try Thumbnailer.writeStoryboard(of: film, timeline: timeline, tileWidth: 160, columns: 2, to: sheet)
            let image = try ImageIO.read(sheet)
            // Two columns, two rows of 160x90 tiles, 4 pixels of margin and padding.
            #expect(image.width == 2 * 160 + 3 * 4 && image.height == 2 * 90 + 3 * 4)
            func tile(_ column: Int, _ row: Int) -> (x: Int, y: Int) { (4 + column * 164, 4 + row * 94) }
            let centres = [tile(0, 0), tile(1, 0), tile(0, 1)].map { t in
                RenderFixtures.meanColor(image, x: (t.x + 100)..<(t.x + 150), y: (t.y + 50)..<(t.y + 80))
            }
            #expect(centres[0].r > 180 && centres[1].b > 180 && abs(centres[2].r - centres[2].b) < 20)
            // The number's box sits in each tile's top-left corner: dark, with white strokes in it
            // (green, because none of the scenes has much of it).
            for t in [tile(0, 0), tile(1, 0), tile(0, 1)] {
                let corner = (t.y + 10..<(t.y + 40)).flatMap { y in (t.x + 10..<(t.x + 40)).map { x in image.pixels[(y * image.width + x) * 3 + 1] } }
                #expect(corner.contains { $0 > 200 } && corner.contains { $0 < 60 }, "no number drawn")
            }
            let empty = tile(1, 1)
            #expect(RenderFixtures.meanColor(image, x: empty.x..<(empty.x + 160), y: empty.y..<(empty.y + 90)).r < 40)
        }
    }

    @Test func thePreviewIsASmallH264WithTheFilmsSound() throws {
        try TestMedia.withTemporaryDirectory { dir in
            let clip = try RenderFixtures.clip(RenderFixtures.red, seconds: 1.5, in: dir, name: "clip.mp4", width: 640, height: 360)
            let tone = try RenderFixtures.tone(frequency: 440, amplitude: 0.3, seconds: 1.5, in: dir, name: "tone.wav")
            let timeline = Timeline(
                video: [TimelineClip(id: "s1", asset: "clip", in: 0, out: 1.5)],
                audio: TimelineAudio(effects: [AudioClip(id: "beep", asset: "tone", at: 0)]),
                output: TimelineOutput(width: 640, height: 360, fps: 25, preset: "ultrafast", loudness: nil))
            let film = dir.appendingPathComponent("film.mp4")
            try TimelineRenderer().render(timeline, media: ["clip": clip, "tone": tone], to: film)
            let preview = dir.appendingPathComponent("preview.mp4")
            let facts = try PreviewProxy.make(from: film, to: preview, height: 180)
            #expect(facts.videoCodec == "h264" && facts.width == 320 && facts.height == 180 && facts.audioCodec == "aac")
            #expect(abs((facts.videoStream?.durationSeconds ?? 0) - 1.5) <= 1 / RenderFixtures.fps)
            let sound = try AudioFile.read(preview)
            #expect(RenderFixtures.amplitude(of: 440, in: sound, from: 0.3, to: 1.2) > 0.1)
        }
    }
}
