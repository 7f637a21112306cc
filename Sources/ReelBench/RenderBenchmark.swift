import Foundation
import ReelConfig
import ReelCore
import ReelRender

/// `reeld bench render`: the standard workload — 8 clips of 5 s at 1280x720, 30 fps, H.264 +
/// AAC; 0.5 s crossfades between all of them; a title over the first 3 s; a voiceover from 1 s;
/// music ducked under the voice; H.264 CRF 23 veryfast + AAC 192k in MP4, 36.5 s — rendered in
/// a child process (`--inner`) so its peak RSS is the render's alone, then a stream-copy cut of
/// the same clips, then the same film over the clips normalised (as the render cache holds them),
/// which takes the mixed path, then (when `ffmpeg` is on PATH, for comparison only) the same
/// render by the ffmpeg CLI with `-filter_complex`.
public struct RenderBenchmark: Sendable {
    public static let clipCount = 8
    public static let clipSeconds = 5.0
    public static let transitionSeconds = 0.5

    public var directory: URL
    public var runs: Int
    public var threads: Int
    /// This executable, to start the timed renders in.
    public var executable: String

    public init(directory: URL, runs: Int, threads: Int, executable: String) {
        self.directory = directory
        self.runs = max(1, runs)
        self.threads = max(1, threads)
        self.executable = executable
    }

    /// One timed render, as the child process reports it.
    public struct Measurement: Sendable, Codable {
        public var seconds: Double
        public var method: String
        public var durationSeconds: Double
        /// The share of frames copied rather than encoded.
        public var copiedFraction: Double?
    }

    /// Makes the inputs (once; kept in `directory`), runs every measurement and prints the figures.
    public func run() throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let started = ContinuousClock.now
        let media = try makeInputs()
        print(String(format: "inputs ready in %@ (%.1f s, not timed)", directory.path, (ContinuousClock.now - started).seconds))
        let film = Self.standardTimeline
        let cut = Self.copyTimeline
        try write(film, to: "film.timeline.json")
        try write(cut, to: "cut.timeline.json")
        try write(Self.mixedTimeline, to: "mixed.timeline.json")
        let (_, catalog) = TimelineRenderer.inspect(film, media: media)
        let otio = film.openTimelineIO(assets: catalog) { media[$0]?.absoluteString }
        try Data(otio.jsonText.utf8).write(to: directory.appendingPathComponent("film.otio"))
        let realtime = film.duration
        print(String(format: "workload: %d clips x %.0f s, %.1f s crossfades, title, voice, ducked music -> %.1f s MP4; %d threads",
                     Self.clipCount, Self.clipSeconds, Self.transitionSeconds, realtime, threads))

        var renders: [(Measurement, Usage)] = []
        var copies: [(Measurement, Usage)] = []
        var mixes: [(Measurement, Usage)] = []
        var cli: [(Double, Usage)] = []
        let ffmpeg = Self.findOnPath("ffmpeg")
        for run in 1...runs {
            let (render, renderUsage) = try child(timeline: "film.timeline.json", output: "film.mp4")
            renders.append((render, renderUsage))
            print(String(format: "run %d  render      %6.2f s  %5.1fx realtime  CPU %6.2f s  peak RSS %4d MB  (%@, %.2f s film)",
                         run, render.seconds, realtime / render.seconds, renderUsage.cpuSeconds, renderUsage.peakKiB / 1024,
                         render.method, render.durationSeconds))
            let (copy, copyUsage) = try child(timeline: "cut.timeline.json", output: "cut.mp4")
            copies.append((copy, copyUsage))
            print(String(format: "run %d  copy cut    %6.3f s  %5.0fx realtime  CPU %6.2f s  peak RSS %4d MB  (%@, %.2f s film)",
                         run, copy.seconds, cut.duration / copy.seconds, copyUsage.cpuSeconds, copyUsage.peakKiB / 1024,
                         copy.method, copy.durationSeconds))
            let (mixed, mixedUsage) = try child(timeline: "mixed.timeline.json", output: "mixed.mp4")
            mixes.append((mixed, mixedUsage))
            print(String(format: "run %d  mixed       %6.2f s  %5.1fx realtime  CPU %6.2f s  peak RSS %4d MB  (%@, %.0f%% copied, %.2f s film)",
                         run, mixed.seconds, realtime / mixed.seconds, mixedUsage.cpuSeconds, mixedUsage.peakKiB / 1024,
                         mixed.method, 100 * (mixed.copiedFraction ?? 0), mixed.durationSeconds))
            if let ffmpeg {
                let (seconds, usage) = try runFFmpeg(ffmpeg, media: media)
                cli.append((seconds, usage))
                print(String(format: "run %d  ffmpeg CLI  %6.2f s  %5.1fx realtime  CPU %6.2f s  peak RSS %4d MB",
                             run, seconds, realtime / seconds, usage.cpuSeconds, usage.peakKiB / 1024))
            }
        }
        let render = renders.map(\.0.seconds).median
        let renderCPU = renders.map(\.1.cpuSeconds).median
        let copy = copies.map(\.0.seconds).median
        print("")
        print(String(format: "render (median of %d): %.2f s wall, %.1fx realtime, %.2f s CPU, peak RSS %d MB", runs, render, realtime / render,
                     renderCPU, (renders.map(\.1.peakKiB).max() ?? 0) / 1024))
        print(String(format: "stream-copy cut (median): %.3f s wall, %.0fx faster than the render", copy, render / copy))
        let mixed = mixes.map(\.0.seconds).median
        print(String(format: "mixed path over normalised clips (median): %.2f s wall, %.2f s CPU, peak RSS %d MB, %.0f%% of frames copied; %.2f of the full render's time",
                     mixed, mixes.map(\.1.cpuSeconds).median, (mixes.map(\.1.peakKiB).max() ?? 0) / 1024,
                     100 * (mixes.first?.0.copiedFraction ?? 0), mixed / render))
        if !cli.isEmpty {
            let seconds = cli.map(\.0).median
            let cpu = cli.map(\.1.cpuSeconds).median
            print(String(format: "ffmpeg CLI (median): %.2f s wall, %.2f s CPU, peak RSS %d MB", seconds, cpu, (cli.map(\.1.peakKiB).max() ?? 0) / 1024))
            print(String(format: "reeld / ffmpeg CLI: wall %.2f, CPU %.2f", render / seconds, renderCPU / cpu))
        } else {
            print("ffmpeg CLI: not on PATH, no comparison")
        }
    }

    /// The child's side: render one timeline file and print a `Measurement` as JSON.
    public static func inner(timeline: URL, output: URL, directory: URL, threads: Int) throws {
        let timeline = try Timeline(json: Data(contentsOf: timeline))
        let media = mediaFiles(in: directory)
        let started = ContinuousClock.now
        let report = try TimelineRenderer(options: .init(threads: threads)).render(timeline, media: media, to: output)
        let seconds = (ContinuousClock.now - started).seconds
        let measurement = Measurement(
            seconds: seconds, method: report.method.rawValue,
            durationSeconds: report.facts.videoStream?.durationSeconds ?? report.facts.durationSeconds ?? 0, copiedFraction: report.copiedFraction)
        print(String(decoding: try JSONEncoder().encode(measurement), as: UTF8.self))
    }

    // MARK: The workload

    static func mediaFiles(in directory: URL) -> [String: URL] {
        var media: [String: URL] = [:]
        for i in 0..<clipCount {
            media["clip\(i)"] = directory.appendingPathComponent("clip\(i).mp4")
            media["normalised\(i)"] = directory.appendingPathComponent("normalised\(i).mp4")
        }
        media["voice"] = directory.appendingPathComponent("voice.m4a")
        media["music"] = directory.appendingPathComponent("music.m4a")
        return media
    }

    static let narration = """
        The keeper climbs the stairs at dusk. Salt on the glass, wind in the rails. \
        Tonight the storm comes early, and the lamp must not go dark. \
        Far out, a small boat turns toward the light.
        """

    static var standardTimeline: Timeline {
        let clips = (0..<clipCount).map { i in
            TimelineClip(
                id: "scene\(i + 1)", asset: "clip\(i)", in: 0, out: clipSeconds,
                transition: i + 1 < clipCount ? Transition(type: .fade, duration: transitionSeconds) : nil, volume: 0)
        }
        return Timeline(
            name: "reeld bench render",
            video: clips,
            overlays: [TextOverlay(
                id: "title", text: "The Lighthouse", font: "DejaVu Sans Bold", size: 72, color: "#ffffff",
                box: TextBox(color: "#00000099", padding: 18), x: 0.5, y: 0.5, start: 0, end: 3, fade: 0.5)],
            audio: TimelineAudio(
                voice: [AudioClip(id: "voiceover", asset: "voice", at: 1)],
                music: MusicBed(asset: "music", volume: 0.6, fadeIn: 1, fadeOut: 2, ducking: Ducking(depthDB: 12, attack: 0.2, release: 0.5))),
            output: TimelineOutput(format: .mp4, width: 1280, height: 720, fps: 30, quality: 23, preset: "veryfast", audioBitrate: 192_000, loudness: -14))
    }

    /// The standard film over the clips as normalisation leaves them (mezzanine H.264 with
    /// stitchable headers and a keyframe each second): the mixed path's workload.
    static var mixedTimeline: Timeline {
        var timeline = standardTimeline
        timeline.name = "reeld bench mixed"
        for i in timeline.video.indices { timeline.video[i].asset = "normalised\(i)" }
        return timeline
    }

    /// The same clips joined with hard cuts and their own sound: nothing to re-encode.
    static var copyTimeline: Timeline {
        let clips = (0..<clipCount).map { TimelineClip(id: "scene\($0 + 1)", asset: "clip\($0)", in: 0, out: clipSeconds) }
        return Timeline(name: "reeld bench cut", video: clips, output: TimelineOutput(loudness: nil))
    }

    private func makeInputs() throws -> [String: URL] {
        let media = Self.mediaFiles(in: directory)
        let options = ClipSynthesizer.Options(width: 1280, height: 720, framesPerSecond: 30, seconds: Self.clipSeconds)
        for i in 0..<Self.clipCount {
            let url = media["clip\(i)"]!
            if FileManager.default.fileExists(atPath: url.path) { continue }
            try ClipSynthesizer.makeClip(from: Self.picture(i, 0), to: Self.picture(i, 1), options: options, writingTo: url)
        }
        let renderer = TimelineRenderer(options: .init(threads: threads))
        let cache = directory.appendingPathComponent("cache")
        for i in 0..<Self.clipCount {
            let url = media["normalised\(i)"]!
            if FileManager.default.fileExists(atPath: url.path) { continue }
            let made = try renderer.normalizedCopy(of: media["clip\(i)"]!, for: Self.standardTimeline.output, in: cache)
            try FileManager.default.moveItem(at: made, to: url)
        }
        if !FileManager.default.fileExists(atPath: media["voice"]!.path) {
            try AudioWriter.writeM4A(AudioSynthesizer.speechLike(text: Self.narration, seed: 7), to: media["voice"]!)
        }
        if !FileManager.default.fileExists(atPath: media["music"]!.path) {
            try AudioWriter.writeM4A(AudioSynthesizer.music(durationSeconds: 40, seed: 7), to: media["music"]!)
        }
        return media
    }

    /// A picture per clip and end: a diagonal gradient and a disc, in colours that differ between clips.
    static func picture(_ clip: Int, _ end: Int) -> RGBImage {
        let width = 640, height = 360
        var random = SeededRandom(seed: UInt64(clip * 2 + end + 1))
        let a = (random.unit() * 255, random.unit() * 255, random.unit() * 255)
        let b = (random.unit() * 255, random.unit() * 255, random.unit() * 255)
        let cx = random.unit() * Double(width), cy = random.unit() * Double(height), r = 40 + random.unit() * 80
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let t = (Double(x) / Double(width) + Double(y) / Double(height)) / 2
                let inside = (Double(x) - cx) * (Double(x) - cx) + (Double(y) - cy) * (Double(y) - cy) < r * r
                let i = (y * width + x) * 3
                pixels[i] = inside ? 250 : UInt8(a.0 + (b.0 - a.0) * t)
                pixels[i + 1] = inside ? 240 : UInt8(a.1 + (b.1 - a.1) * t)
                pixels[i + 2] = inside ? 200 : UInt8(a.2 + (b.2 - a.2) * t)
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    private func write(_ timeline: Timeline, to name: String) throws {
        try timeline.jsonData.write(to: directory.appendingPathComponent(name))
    }

    // MARK: Child processes

    /// Runs `reeld bench render --inner` and returns its measurement and resource use.
    private func child(timeline: String, output: String) throws -> (Measurement, Usage) {
        let (status, text, rss) = try Self.spawn(executable, [
            "bench", "render", "--inner", "--directory", directory.path, "--timeline", directory.appendingPathComponent(timeline).path,
            "--output", directory.appendingPathComponent(output).path, "--threads", String(threads),
        ])
        guard status == 0, let line = text.split(separator: "\n").last,
              let measurement = try? JSONDecoder().decode(Measurement.self, from: Data(line.utf8)) else {
            throw ConfigurationProblem("the timed render failed (exit \(status)): \(text)")
        }
        return (measurement, rss)
    }

    /// The standard workload by the ffmpeg CLI: the same graph written as `-filter_complex`, the
    /// way it is usually written — an xfade chain — with `format=yuv420p` at the end so that the
    /// result is the same H.264 High 4:2:0 a player expects (left out, x264 gets 4:4:4 from
    /// xfade and writes High 4:4:4, which is slower and plays in fewer places).
    private func runFFmpeg(_ ffmpeg: String, media: [String: URL]) throws -> (Double, Usage) {
        let t = Self.transitionSeconds
        var graph: [String] = []
        var last = "0:v"
        for i in 1..<Self.clipCount {
            let offset = Double(i) * (Self.clipSeconds - t)
            graph.append("[\(last)][\(i):v]xfade=transition=fade:duration=\(t):offset=\(offset)[x\(i)]")
            last = "x\(i)"
        }
        let font = FontCatalog.standard.path(for: "DejaVu Sans Bold") ?? ""
        graph.append(
            "[\(last)]drawtext=fontfile=\(font):text='The Lighthouse':fontsize=72:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=18"
                + ":x=(w-tw)/2:y=(h-th)/2:alpha='clip(min(t/0.5,(3-t)/0.5),0,1)':enable='lt(t,3)',format=yuv420p[v]")
        let voice = Self.clipCount, music = Self.clipCount + 1
        let film = Self.standardTimeline.duration
        graph.append("[\(voice):a]aresample=48000,aformat=channel_layouts=stereo,adelay=1000:all=1,asplit=2[vo1][vo2]")
        graph.append("[\(music):a]volume=0.6,afade=t=in:d=1,afade=t=out:st=\(film - 2):d=2[m]")
        graph.append("[m][vo1]sidechaincompress=threshold=0.02:ratio=8:attack=200:release=500[md]")
        graph.append("[vo2][md]amix=inputs=2:normalize=0:duration=longest,apad,atrim=0:\(film),loudnorm=I=-14:TP=-1,aresample=48000[a]")
        var arguments = ["-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
        for i in 0..<Self.clipCount { arguments += ["-i", media["clip\(i)"]!.path] }
        arguments += ["-i", media["voice"]!.path, "-i", media["music"]!.path]
        arguments += [
            "-filter_complex", graph.joined(separator: ";"), "-map", "[v]", "-map", "[a]",
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-g", "60", "-c:a", "aac", "-b:a", "192k",
            "-movflags", "+faststart", directory.appendingPathComponent("ffmpeg.mp4").path,
        ]
        let started = ContinuousClock.now
        let (status, text, rss) = try Self.spawn(ffmpeg, arguments)
        let seconds = (ContinuousClock.now - started).seconds
        guard status == 0 else { throw ConfigurationProblem("ffmpeg failed (exit \(status)): \(text)") }
        return (seconds, rss)
    }

    /// Starts a program, waits for it, and returns its exit status, output and peak RSS (KiB)
    /// from `wait4`, which reports that child's own rusage.
    static func spawn(_ program: String, _ arguments: [String]) throws -> (Int32, String, Usage) {
        let outputFile = FileManager.default.temporaryDirectory.appendingPathComponent("reeld-bench-\(UUID().uuidString).out")
        defer { try? FileManager.default.removeItem(at: outputFile) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, outputFile.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([program] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        let rc = posix_spawn(&pid, program, &actions, nil, argv, environ)
        guard rc == 0 else { throw ConfigurationProblem("cannot start \(program): \(String(cString: strerror(rc)))") }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        let text = (try? String(contentsOf: outputFile, encoding: .utf8)) ?? ""
        let exited = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let cpu = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        return (exited, text, Usage(peakKiB: Int(usage.ru_maxrss), cpuSeconds: cpu))
    }

    /// A finished child's peak resident set and CPU time (user + system, all its threads).
    struct Usage {
        var peakKiB: Int
        var cpuSeconds: Double
    }

    static func findOnPath(_ name: String) -> String? {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let path = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }
}
