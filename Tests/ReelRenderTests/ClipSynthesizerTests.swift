import Foundation
import ReelRender
import Testing

@Suite struct ClipSynthesizerTests {
    @Test func clipHasH264AndAACOfRequestedLength() throws {
        try TestMedia.withTemporaryDirectory { dir in
            let url = dir.appendingPathComponent("clip.mp4")
            let started = ContinuousClock.now
            try ClipSynthesizer.makeClip(from: TestMedia.warm, to: TestMedia.cool, options: .init(seconds: 5), writingTo: url)
            let elapsed = ContinuousClock.now - started
            print("5 s 640x360 clip took \(elapsed)")
            let facts = try MediaProbe.probe(url)
            #expect(facts.videoCodec == "h264")
            #expect(facts.audioCodec == "aac")
            #expect(facts.audioStream?.sampleRate == 48_000 && facts.audioStream?.channels == 2)
            #expect(facts.width == 640 && facts.height == 360)
            #expect(abs((facts.videoStream?.framesPerSecond ?? 0) - 24) < 0.01)
            #expect(abs((facts.durationSeconds ?? 0) - 5) <= 1.0 / 24)
            #expect(abs((facts.videoStream?.durationSeconds ?? 0) - 5) <= 1.0 / 24)
            // The final path appears only once complete; no partial files are left beside it.
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0 != "clip.mp4" }
            #expect(leftovers.isEmpty)
        }
    }

    @Test func clipStartsAtStartFrameAndEndsAtEndFrame() throws {
        try TestMedia.withTemporaryDirectory { dir in
            let url = dir.appendingPathComponent("clip.mp4")
            try ClipSynthesizer.makeClip(from: TestMedia.warm, to: TestMedia.cool, options: .init(seconds: 2), writingTo: url)
            var frames: [RGBImage] = []
            var count = 0
            try VideoFrameReader.forEachFrame(in: url) { _, image in
                if frames.isEmpty { frames.append(image) } else if frames.count == 1 { frames.append(image) } else { frames[1] = image }
                count += 1
            }
            #expect(count == 48)
            let first = try #require(frames.first)
            let last = try #require(frames.last)
            #expect(first.meanAbsoluteDifference(to: TestMedia.warm) < 6)
            #expect(last.meanAbsoluteDifference(to: TestMedia.cool) < 6)
            #expect(first.meanAbsoluteDifference(to: TestMedia.cool) > 40)
        }
    }

    @Test func singlePictureClipMoves() throws {
        try TestMedia.withTemporaryDirectory { dir in
            let url = dir.appendingPathComponent("kenburns.mp4")
            let picture = TestMedia.gradient(width: 400, height: 400, from: (0, 0, 0), to: (255, 255, 255))
            try ClipSynthesizer.makeClip(from: picture, to: nil, options: .init(width: 320, height: 180, seconds: 1), writingTo: url)
            var frames: [RGBImage] = []
            try VideoFrameReader.forEachFrame(in: url) { _, image in frames.append(image) }
            #expect(frames.count == 24)
            #expect(frames[0].meanAbsoluteDifference(to: frames[23]) > 2)
        }
    }

    @Test func oddSizeIsRejected() throws {
        try TestMedia.withTemporaryDirectory { dir in
            let url = dir.appendingPathComponent("odd.mp4")
            #expect(throws: MediaError.self) {
                try ClipSynthesizer.makeClip(from: TestMedia.warm, to: nil, options: .init(width: 641, height: 360), writingTo: url)
            }
            #expect(!FileManager.default.fileExists(atPath: url.path))
        }
    }

    @Test func concurrentClipsFromManyThreads() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reelrender-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try await withThrowingTaskGroup(of: MediaFacts.self) { group in
            for i in 0..<4 {
                group.addTask {
                    try ClipSynthesizer.makeClip(
                        from: TestMedia.warm, to: TestMedia.cool, options: .init(width: 160, height: 90, seconds: 0.5),
                        writingTo: dir.appendingPathComponent("c\(i).mp4"))
                }
            }
            for try await facts in group { #expect(facts.videoCodec == "h264") }
        }
    }
}
