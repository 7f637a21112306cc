import Foundation
import Glibc
import ReelRender
import ReelTestSupport
import Testing

extension ProcessTests.RenderProcessTests {
    /// Runs the built `reeld render` with `arguments` and waits for it. Its stdout is a file, not
    /// a terminal, so progress comes as plain lines.
    func render(_ arguments: [String], in directory: TemporaryDirectory, label: String) async throws -> CompletedRun {
        try await CompletedRun.of("reeld", ["render"] + arguments, in: directory.url, label: label, timeout: .seconds(120))
    }

    /// Two one-second clips in `clips/` beside the timeline, made with libav as a provider would.
    func makeClips(in directory: TemporaryDirectory, seconds: Double = 1) throws {
        let clips = directory.appending("clips")
        try FileManager.default.createDirectory(at: clips, withIntermediateDirectories: true)
        for (name, shade) in [("a.mp4", UInt8(200)), ("b.mp4", UInt8(60))] {
            try ClipSynthesizer.makeClip(
                from: RGBImage(width: 64, height: 36, red: shade, green: 90, blue: 255 - shade), to: nil,
                options: .init(width: 320, height: 180, framesPerSecond: 25, seconds: seconds, zoom: 0),
                writingTo: clips.appendingPathComponent(name))
        }
    }

    func write(_ json: String, to url: URL) throws {
        try Data(json.utf8).write(to: url)
    }

    /// A timeline written by hand whose assets are paths relative to it.
    static let cut = """
        {
          "version": 2,
          "video": [
            {"id": "a", "asset": "clips/a.mp4", "in": 0, "out": 1},
            {"id": "b", "asset": "clips/b.mp4", "in": 0, "out": 1}
          ],
          "output": {"width": 320, "height": 180, "fps": 25}
        }
        """

    @Test func rendersATimelineFileWhoseAssetsArePathsBesideIt() async throws {
        let directory = try TemporaryDirectory(prefix: "reeld-render")
        defer { directory.remove() }
        try makeClips(in: directory)
        let timeline = directory.appending("cut.json")
        try write(Self.cut, to: timeline)

        let film = directory.appending("film.mp4")
        let copied = try await render([timeline.path, "-o", film.path], in: directory, label: "copy")
        #expect(copied.status == .exited(0), "\(copied.errors)")
        #expect(copied.output.contains("method: copy"), "\(copied.output)")
        #expect(copied.output.contains("duration: 2.00 s"), "\(copied.output)")
        let facts = try MediaProbe.probe(film)
        #expect(facts.videoCodec == "h264" && facts.audioCodec == "aac")
        #expect(facts.width == 320 && facts.height == 180)
        let seconds = try #require(facts.videoStream?.durationSeconds)
        #expect(abs(seconds - 2) < 0.05, "\(seconds)")

        // Not a terminal: a plain line per tenth done, rising, ending at 100 %.
        let lines = copied.output.split(separator: "\n").filter { $0.hasPrefix("render ") }
        let percents = lines.compactMap { Int($0.dropFirst("render ".count).prefix { $0 != "%" }.trimmingCharacters(in: .whitespaces)) }
        #expect(percents.count == lines.count && !percents.isEmpty, "\(copied.output)")
        #expect(percents == percents.sorted() && Set(percents).count == percents.count, "\(percents)")
        #expect(percents.allSatisfy { $0 % 10 == 0 } && percents.last == 100, "\(percents)")
        #expect(!copied.output.contains("\r"))

        // The same cut with a crossfade of ten frames and no stream copy: every frame encoded, 1.6 s long.
        try write(Self.cut.replacingOccurrences(
            of: #""out": 1},"#, with: #""out": 1, "transition": {"type": "fade", "duration": 0.4}},"#), to: timeline)
        let full = try await render([timeline.path, "-o", film.path, "--no-stream-copy", "--threads", "1"], in: directory, label: "full")
        #expect(full.status == .exited(0), "\(full.errors)")
        #expect(full.output.contains("method: full"), "\(full.output)")
        #expect(full.output.contains("duration: 1.60 s"), "\(full.output)")
        #expect(abs((try MediaProbe.probe(film).videoStream?.durationSeconds ?? 0) - 1.6) < 0.05)
    }

    @Test func exitCodesSayWhatIsWrong() async throws {
        let directory = try TemporaryDirectory(prefix: "reeld-render-codes")
        defer { directory.remove() }
        try makeClips(in: directory)
        let film = directory.appending("film.mp4")

        let missingFile = directory.appending("missing.json")
        try write(Self.cut.replacingOccurrences(of: "clips/b.mp4", with: "clips/gone.mp4"), to: missingFile)
        let missing = try await render([missingFile.path, "-o", film.path], in: directory, label: "missing")
        #expect(missing.status == .exited(66))
        #expect(missing.errors.contains(#"video[1] "b": no such file "clips/gone.mp4""#), "\(missing.errors)")

        let noTimeline = try await render([directory.appending("nowhere.json").path, "-o", film.path], in: directory, label: "no-timeline")
        #expect(noTimeline.status == .exited(66), "\(noTimeline.errors)")

        let malformed = directory.appending("malformed.json")
        try write(Self.cut.replacingOccurrences(of: #""out": 1}"#, with: #""out": "soon"}"#), to: malformed)
        let notDecoded = try await render([malformed.path, "-o", film.path], in: directory, label: "malformed")
        #expect(notDecoded.status == .exited(65))
        #expect(notDecoded.errors.contains("video[0].out"), "\(notDecoded.errors)")

        let backwards = directory.appending("backwards.json")
        try write(Self.cut.replacingOccurrences(of: #"{"id": "b", "asset": "clips/b.mp4", "in": 0, "out": 1}"#,
                                                with: #"{"id": "b", "asset": "clips/b.mp4", "in": 0.8, "out": 5}"#), to: backwards)
        let invalid = try await render([backwards.path, "-o", film.path], in: directory, label: "invalid")
        #expect(invalid.status == .exited(65))
        #expect(invalid.errors.contains(#"video[1] "b""#), "\(invalid.errors)")

        let webm = directory.appending("webm.json")
        try write(Self.cut.replacingOccurrences(of: #""fps": 25}"#, with: #""fps": 25, "format": "webm"}"#), to: webm)
        let mismatch = try await render([webm.path, "-o", film.path], in: directory, label: "mismatch")
        #expect(mismatch.status == .exited(64))
        #expect(mismatch.errors.contains("output.format is webm"), "\(mismatch.errors)")

        let usage = try await render([webm.path, "--threads", "0"], in: directory, label: "usage")
        #expect(usage.status == .exited(64))
        #expect(!FileManager.default.fileExists(atPath: film.path))
    }

    /// Ctrl-C cancels the render: it stops within moments and leaves no file, not even a
    /// temporary one, in the output's directory.
    @Test func anInterruptStopsTheRenderAndLeavesNoFile() async throws {
        let directory = try TemporaryDirectory(prefix: "reeld-render-interrupt")
        defer { directory.remove() }
        try makeClips(in: directory, seconds: 30)
        let timeline = directory.appending("long.json")
        try write(Self.cut.replacingOccurrences(of: #""out": 1"#, with: #""out": 30"#), to: timeline)
        let out = directory.appending("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let process = try ChildProcess(
            executable: try BuiltProducts.executable("reeld"),
            arguments: ["render", timeline.path, "-o", out.appendingPathComponent("film.mp4").path, "--no-stream-copy", "--threads", "1"],
            outputDirectory: directory.url, label: "interrupted")
        // Under way once a tenth or more is reported (a busy machine may skip a line).
        func underWay() -> Bool {
            process.standardOutput.split(separator: "\n").contains { line in
                line.hasPrefix("render ") && !line.hasPrefix("render   0%") && !line.hasPrefix("render 100%")
            }
        }
        let deadline = ContinuousClock.now + .seconds(60)
        while !underWay(), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(underWay(), "\(process.standardOutput)\(process.standardError)")
        process.send(SIGINT)
        let status = try await process.waitForExit(timeout: .seconds(20))
        #expect(status == .exited(130), "\(process.standardError)")
        #expect(process.standardError.contains("interrupted; nothing written"), "\(process.standardError)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path) == [])
    }
}
