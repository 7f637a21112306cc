import Foundation
import ReelRender
import Testing
import ReelCore

@Suite struct MediaProbeTests {
    @Test func probesWAVWrittenByHand() throws {
        try TestMedia.withTemporaryDirectory { dir in
            let url = dir.appendingPathComponent("tone.wav")
            try TestMedia.writeWAV(seconds: 1.5, to: url)
            let facts = try MediaProbe.probe(url)
            #expect(facts.formatName == "wav")
            #expect(facts.hasAudio && !facts.hasVideo)
            #expect(facts.audioCodec == "pcm_s16le")
            #expect(facts.audioStream?.sampleRate == 44_100)
            #expect(facts.audioStream?.channels == 1)
            #expect(abs((facts.durationSeconds ?? 0) - 1.5) < 0.01)
        }
    }

    @Test func missingFileThrowsMediaErrorNamingIt() throws {
        let url = URL(fileURLWithPath: "/nonexistent/reeld/clip.mp4")
        let error = #expect(throws: MediaError.self) { try MediaProbe.probe(url) }
        #expect(error?.path == url.path)
        #expect(error?.operation == .open)
    }

    @Test func corruptFileThrowsMediaErrorNamingIt() throws {
        try TestMedia.withTemporaryDirectory { dir in
            let url = dir.appendingPathComponent("broken.mp4")
            var random = SeededRandom(seed: 7)
            try Data((0..<4096).map { _ in UInt8(truncatingIfNeeded: random.next()) }).write(to: url)
            let error = #expect(throws: MediaError.self) { try MediaProbe.probe(url) }
            #expect(error?.path == url.path)
            #expect(error?.description.contains("broken.mp4") == true)
        }
    }

    @Test func truncatedPNGThrowsOnRead() throws {
        try TestMedia.withTemporaryDirectory { dir in
            let good = dir.appendingPathComponent("good.png")
            try ImageIO.writePNG(TestMedia.warm, to: good)
            let bytes = try Data(contentsOf: good)
            let bad = dir.appendingPathComponent("bad.png")
            try bytes.prefix(bytes.count / 3).write(to: bad)
            let error = #expect(throws: MediaError.self) { try ImageIO.read(bad) }
            #expect(error?.path == bad.path)
        }
    }
}
