import Foundation
import ReelCore
import ReelRender
import Testing

/// libav opens only the formats reeld needs, from local files: a playlist or a concat list, which
/// would open the files and URLs named inside it, is refused before it is read.
@Suite struct InputFormatTests {
    @Test func anHLSPlaylistNamingALocalClipIsRefused() throws {
        try TestMedia.withTemporaryDirectory { dir in
            try RenderFixtures.clip(RenderFixtures.red, seconds: 1, in: dir, name: "clip.mp4")
            let playlist = dir.appendingPathComponent("film.m3u8")
            try Data("#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\nclip.mp4\n#EXT-X-ENDLIST\n".utf8).write(to: playlist)
            let error = #expect(throws: MediaError.self) { try MediaProbe.probe(playlist) }
            #expect(error?.message.contains("hls is not a format reeld reads") == true, "\(String(describing: error))")
            #expect(error?.path == playlist.path)
        }
    }

    @Test func aPlaylistNamingAFileURLIsRefused() throws {
        try TestMedia.withTemporaryDirectory { dir in
            let playlist = dir.appendingPathComponent("clip.mp4")
            try Data("#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n".utf8).write(to: playlist)
            let error = #expect(throws: MediaError.self) { try MediaProbe.probe(playlist) }
            #expect(error?.message.contains("hls is not a format reeld reads") == true, "\(String(describing: error))")
        }
    }

    @Test func anFFConcatListIsRefused() throws {
        try TestMedia.withTemporaryDirectory { dir in
            try RenderFixtures.clip(RenderFixtures.red, seconds: 1, in: dir, name: "clip.mp4")
            let list = dir.appendingPathComponent("list.mp4")
            try Data("ffconcat version 1.0\nfile clip.mp4\nfile clip.mp4\n".utf8).write(to: list)
            let error = #expect(throws: MediaError.self) { try MediaProbe.probe(list) }
            #expect(error?.message.contains("concat is not a format reeld reads") == true, "\(String(describing: error))")
            // As a clip, the refusal names the element that uses it, before any work.
            let timeline = Timeline(video: [TimelineClip(id: "s1", asset: "list", in: 0, out: 1)], output: RenderFixtures.output())
            let invalid = #expect(throws: TimelineInvalid.self) {
                try TimelineRenderer().render(timeline, media: ["list": list], to: dir.appendingPathComponent("film.mp4"))
            }
            #expect(invalid?.problems.first?.element == #"video[0] "s1""#)
            #expect(invalid?.problems.first?.message.contains("concat is not a format reeld reads") == true)
        }
    }

    @Test func theFormatsReeldMakesAndTakesStillOpen() throws {
        try TestMedia.withTemporaryDirectory { dir in
            let clip = try RenderFixtures.clip(RenderFixtures.red, seconds: 1, in: dir, name: "clip.mp4")
            let tone = try RenderFixtures.tone(frequency: 440, amplitude: 0.3, seconds: 1, in: dir, name: "tone.wav")
            let m4a = dir.appendingPathComponent("voice.m4a")
            _ = try AudioWriter.writeM4A(AudioSynthesizer.music(durationSeconds: 1, seed: 1), to: m4a)
            let png = dir.appendingPathComponent("still.png"), jpeg = dir.appendingPathComponent("still.jpg")
            try ImageIO.writePNG(RenderFixtures.blue, to: png)
            try ImageIO.writeJPEG(RenderFixtures.blue, to: jpeg)
            // Stored assets may have no extension: the content decides.
            let bare = dir.appendingPathComponent("asset")
            try FileManager.default.copyItem(at: png, to: bare)
            // A large JPEG's markers lie past libav's first probe, so it goes by its extension (image2).
            let big = dir.appendingPathComponent("big.jpg")
            try ImageIO.writeJPEG(TestMedia.warm, to: big)
            let expected = [clip: ["mov"], tone: ["wav"], m4a: ["mov"], png: ["png_pipe"], jpeg: ["jpeg_pipe", "image2"], big: ["jpeg_pipe", "image2"], bare: ["png_pipe"]]
            for (url, formats) in expected {
                let facts = try MediaProbe.probe(url)
                #expect(facts.formatName.split(separator: ",").contains { formats.contains(String($0)) }, "\(url.lastPathComponent): \(facts.formatName)")
            }
            #expect(try ImageIO.read(big).width == 640)
            #expect(try ImageIO.read(jpeg).width == RenderFixtures.blue.width)
        }
    }

    @Test func aPictureOverTheLimitIsRefusedBeforeItIsDecoded() throws {
        try TestMedia.withTemporaryDirectory { dir in
            // 8192 × 2100 is 17.2 MP, over the 16.8 MP (4096 × 4096) reeld decodes.
            let wide = dir.appendingPathComponent("wide.png")
            try ImageIO.writePNG(RGBImage(width: 8192, height: 2100, red: 10, green: 20, blue: 30), to: wide)
            let error = #expect(throws: MediaError.self) { try ImageIO.read(wide, width: 64, height: 16) }
            #expect(error?.message.contains("8192x2100") == true, "\(String(describing: error))")
            let clip = try RenderFixtures.clip(RenderFixtures.red, seconds: 1, in: dir, name: "clip.mp4")
            let timeline = Timeline(
                video: [TimelineClip(id: "s1", asset: "clip", in: 0, out: 1), TimelineClip(id: "s2", asset: "wide", in: 0, out: 1)],
                output: RenderFixtures.output())
            let invalid = #expect(throws: TimelineInvalid.self) {
                try TimelineRenderer().render(timeline, media: ["clip": clip, "wide": wide], to: dir.appendingPathComponent("film.mp4"))
            }
            #expect(invalid?.problems.first?.element == #"video[1] "s2""#)
            #expect(invalid?.problems.first?.message.contains("8192x2100") == true)
        }
    }

    /// A picture's name is one file: `shot%d.png` is not read as the sequence shot1.png, shot2.png….
    @Test func aNumberedNameIsOneFileNotASequence() throws {
        try TestMedia.withTemporaryDirectory { dir in
            try ImageIO.writePNG(RenderFixtures.blue, to: dir.appendingPathComponent("shot%d.png"))
            try ImageIO.writePNG(RenderFixtures.red, to: dir.appendingPathComponent("shot1.png"))
            try ImageIO.writePNG(RenderFixtures.red, to: dir.appendingPathComponent("shot2.png"))
            let image = try ImageIO.read(dir.appendingPathComponent("shot%d.png"))
            let color = RenderFixtures.meanColor(image)
            #expect(color.b > 180 && color.r < 60, "read \(color), not the file named")
        }
    }
}
