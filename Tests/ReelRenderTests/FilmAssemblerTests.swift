import Foundation
import ReelRender
import Testing

@Suite struct FilmAssemblerTests {
    @Test func filmJoinsClipsByStreamCopyWithVoiceOverMusic() throws {
        try TestMedia.withTemporaryDirectory { dir in
            let options = ClipSynthesizer.Options(width: 320, height: 180, seconds: 1.5)
            let pictures = [TestMedia.warm, TestMedia.cool, TestMedia.warm]
            var clips: [URL] = []
            for i in 0..<2 {
                let url = dir.appendingPathComponent("clip\(i).mp4")
                try ClipSynthesizer.makeClip(from: pictures[i], to: pictures[i + 1], options: options, writingTo: url)
                clips.append(url)
            }
            let voice = dir.appendingPathComponent("voice.m4a")
            try AudioWriter.writeM4A(AudioSynthesizer.speechLike(text: "A keeper climbs the stairs.", seed: 1), to: voice)
            let music = dir.appendingPathComponent("music.m4a")
            try AudioWriter.writeM4A(AudioSynthesizer.music(durationSeconds: 5, seed: 1), to: music)

            let film = dir.appendingPathComponent("film.mp4")
            let facts = try FilmAssembler.assemble(clips: clips, voiceover: voice, music: music, writingTo: film)
            #expect(facts.videoCodec == "h264" && facts.audioCodec == "aac")
            #expect(facts.width == 320 && facts.height == 180)
            #expect(abs((facts.durationSeconds ?? 0) - 3) <= 1.0 / 24)
            #expect(abs((facts.videoStream?.durationSeconds ?? 0) - 3) <= 1.0 / 24)

            var frames = 0
            try VideoFrameReader.forEachFrame(in: film) { _, _ in frames += 1 }
            #expect(frames == 72)
            let audio = try AudioFile.read(film)
            #expect(abs(audio.durationSeconds - 3) < 0.05)
            #expect(audio.rms > 0.02)
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".") }
            #expect(leftovers.isEmpty)
        }
    }

    @Test func mismatchedClipsAreRefusedAndLeaveNoFile() throws {
        try TestMedia.withTemporaryDirectory { dir in
            let a = dir.appendingPathComponent("a.mp4")
            let b = dir.appendingPathComponent("b.mp4")
            try ClipSynthesizer.makeClip(from: TestMedia.warm, to: nil, options: .init(width: 320, height: 180, seconds: 0.5), writingTo: a)
            try ClipSynthesizer.makeClip(from: TestMedia.warm, to: nil, options: .init(width: 256, height: 144, seconds: 0.5), writingTo: b)
            let film = dir.appendingPathComponent("film.mp4")
            let error = #expect(throws: MediaError.self) { try FilmAssembler.assemble(clips: [a, b], voiceover: nil, writingTo: film) }
            #expect(error?.path == b.path)
            #expect(!FileManager.default.fileExists(atPath: film.path))
        }
    }

    @Test func corruptClipThrowsNamingIt() throws {
        try TestMedia.withTemporaryDirectory { dir in
            let bad = dir.appendingPathComponent("bad.mp4")
            try Data("not a video at all".utf8).write(to: bad)
            let error = #expect(throws: MediaError.self) {
                try FilmAssembler.assemble(clips: [bad], voiceover: nil, writingTo: dir.appendingPathComponent("film.mp4"))
            }
            #expect(error?.path == bad.path)
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
