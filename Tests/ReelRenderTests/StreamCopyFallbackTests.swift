import CFFmpeg
import Foundation
import ReelCore
import Testing

@testable import ReelRender

/// The stream copy's result is checked against the timeline before it is kept; when the copy
/// comes out short, it is thrown away and the film rendered.
@Suite struct StreamCopyFallbackTests {
    /// Copies `source`'s streams into `target` (the container chosen by its extension), the
    /// picture only up to `seconds`: a file whose sound outlasts its picture.
    static func remux(_ source: URL, to target: URL, pictureUntil seconds: Double) throws {
        let input = try InputFile(source)
        let file = try OutputFile(target)
        var streams: [Int32: (from: UnsafeMutablePointer<AVStream>, to: UnsafeMutablePointer<AVStream>)] = [:]
        for i in 0..<input.streamCount {
            let stream = input.stream(i)
            streams[stream.pointee.index] = (stream, try file.addStream(copying: stream))
        }
        try file.writeHeader(faststart: false)
        try input.forEachPacket { packet in
            guard let (from, to) = streams[packet.pointee.stream_index] else { return }
            let time = Double(packet.pointee.pts) * av_q2d(from.pointee.time_base)
            if from.pointee.codecpar.pointee.codec_type == AVMEDIA_TYPE_VIDEO && time >= seconds - 0.001 { return }
            try file.write(packet, from: from.pointee.time_base, to: to)
        }
        try file.finish()
    }

    /// A Matroska clip whose picture stops at 1 s and its sound at 2 s: Matroska gives no
    /// stream its own length, so the asset counts as 2 s long and a clip of it to 2 s is valid.
    /// Everything else fits the fast path (H.264 of the output's shape, AAC), but the copy has
    /// 1 s of picture for a 2 s timeline. The check sees it; the full path holds the last frame.
    @Test func aCopyThatComesOutShortIsRenderedInstead() throws {
        try TestMedia.withTemporaryDirectory { dir in
            let made = try RenderFixtures.clip(RenderFixtures.red, seconds: 2, in: dir, name: "made.mp4")
            let clip = dir.appendingPathComponent("clip.mkv")
            try Self.remux(made, to: clip, pictureUntil: 1)
            let facts = try MediaProbe.probe(clip)
            #expect(facts.videoStream?.durationSeconds == nil)
            #expect(abs((facts.durationSeconds ?? 0) - 2) < 0.05)
            let timeline = Timeline(video: [TimelineClip(id: "s1", asset: "clip", in: 0, out: 2)], output: RenderFixtures.output())
            let film = dir.appendingPathComponent("film.mp4")
            let report = try TimelineRenderer().render(timeline, media: ["clip": clip], to: film)
            #expect(report.method == .filterGraph)
            let reason = report.fullRenderReason ?? ""
            #expect(reason.contains("stream copy gave 1.000 s of picture, the timeline is 2.000 s"), "\(reason)")
            var frames = 0
            try VideoFrameReader.forEachFrame(in: film) { _, _ in frames += 1 }
            #expect(frames == 50)
            #expect(abs((try MediaProbe.probe(film).videoStream?.durationSeconds ?? 0) - 2) <= 1 / RenderFixtures.fps)
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["clip.mkv", "film.mp4", "made.mp4"])
        }
    }
}
