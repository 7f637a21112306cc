import CFFmpeg
import Foundation
import ReelCore

/// The full path: every clip decoded into one libavfilter graph (normalised to the output's
/// size, rate and pixel format; joined with `xfade` or `concat`; overlays drawn with
/// `drawtext`), encoded once, with the soundtrack mixed by `SoundtrackMixer`.
struct GraphRender {
    let timeline: Timeline
    /// Files for the asset ids the timeline names.
    let media: [String: URL]
    let facts: [String: MediaFacts]
    /// Font file for each overlay, by overlay id.
    let fonts: [String: String]
    let threads: Int
    let control: RenderControl
    /// Encoder choices beyond the timeline's output (the normaliser's mezzanine settings).
    var encoding = Encoding()

    struct Encoding {
        /// Overrides the output's quality.
        var quality: Int?
        /// x264 headers independent of the content, so files made alike join by stream copy.
        var stitchable = false
        var keyframeSeconds = 2.0
        /// Overrides the preset's B-frames (0 makes any frame a clean cut-out point).
        var bFrames: Int?
    }

    /// Writes the film to `url` (through a temporary name) and returns the soundtrack's loudness.
    func render(to url: URL) throws -> Double? {
        let output = timeline.output
        let path = url.path
        let file = try OutputFile(url)
        let video = try OutputEncoders.video(
            output, quality: encoding.quality, threads: threads, path: path, globalHeader: file.wantsGlobalHeader,
            stitchable: encoding.stitchable, keyframeSeconds: encoding.keyframeSeconds, bFrames: encoding.bFrames)
        let audio = try OutputEncoders.audio(output, path: path, globalHeader: file.wantsGlobalHeader)
        let videoStream = try file.addStream(for: video)
        let audioStream = try file.addStream(for: audio)
        try file.writeHeader(faststart: output.format == .mp4)

        // Sound first (it is small once encoded), so the picture can be interleaved with it as it comes.
        let mixer = SoundtrackMixer(timeline: timeline, media: media, facts: facts, threads: threads, control: control)
        let (sound, loudness) = try mixer.encodedSoundtrack(with: audio, progress: { control.progress(0.08 * $0) })

        let layout = timeline.layout
        let (graph, sink, feeds) = try buildVideoGraph(layout: layout)
        let sinkBase = av_buffersink_get_time_base(sink)
        let encoderBase = video.context.pointee.time_base
        let write: (UnsafeMutablePointer<AVPacket>) throws -> Void = { packet in
            if packet.pointee.duration == 0 { packet.pointee.duration = 1 }
            try sound.write(until: packet.pointee.dts, in: encoderBase, to: file, stream: audioStream)
            try file.write(packet, from: encoderBase, to: videoStream)
        }
        var frames = 0
        let total = Double(max(1, layout.totalFrames))
        try graph.run(sink: sink, feeds: feeds, control: control) { frame in
            frame.pointee.pts = av_rescale_q(frame.pointee.pts, sinkBase, encoderBase)
            frame.pointee.pict_type = AV_PICTURE_TYPE_NONE
            try video.encode(frame, write)
            frames += 1
            control.progress(0.08 + 0.9 * Double(frames) / total)
        }
        try video.encode(nil, write)
        try sound.writeRemaining(to: file, stream: audioStream)
        try control.checkCancelled()
        try file.finish()
        return loudness
    }

    /// One graph for the whole picture: a source per clip, normalised and cut to its exact frame
    /// count, then laid end to end by one `concat` of segments — each clip's part that plays
    /// alone, and each transition made by `xfade` from the outgoing clip's tail and the incoming
    /// clip's head — with overlays drawn over the joined film.
    ///
    /// Only the transitions' frames go through `xfade`, because FFmpeg 5.1's xfade works in
    /// 4:4:4 only: chaining whole clips through it (as one would with the ffmpeg tool) converts
    /// every frame of the film up to 4:4:4 and back; here just the overlapping frames are.
    func buildVideoGraph(layout: TimelineLayout) throws -> (FilterGraph, UnsafeMutablePointer<AVFilterContext>, [(FilterGraph.Source, any FrameFeed)]) {
        let output = timeline.output
        let graph = try FilterGraph(name: "video graph", threads: threads)
        let rate = OutputEncoders.frameRate(output.fps)
        let rateText = "\(rate.num)/\(rate.den)"
        var feeds: [(FilterGraph.Source, any FrameFeed)] = []
        // Per clip: its head (the incoming transition's frames), body, tail (the outgoing transition's).
        var heads: [FilterGraph.Pad?] = [], bodies: [FilterGraph.Pad?] = [], tails: [FilterGraph.Pad?] = []
        for (i, clip) in timeline.video.enumerated() {
            let label = "video[\(i)] \"\(clip.id)\""
            guard let url = media[clip.asset] else { throw MediaError(.invalidInput, path: nil, message: "\(label): asset \"\(clip.asset)\" has no file") }
            let reader = try VideoClipReader(url: url, in: clip.inPoint, out: clip.outPoint, threads: threads, label: label)
            let source = try graph.videoSource(
                label: label, width: reader.width, height: reader.height, format: reader.pixelFormat,
                timeBase: reader.timeBase, sampleAspect: reader.sampleAspect, frameRate: reader.frameRate)
            feeds.append((source, reader))
            let frames = layout.clipFrames[i]
            var filters: [(String, KeyValuePairs<String, String>)] = [("fps", ["fps": rateText])]
            let sar = reader.sampleAspect
            let square = sar.num == 0 || sar.num == sar.den
            if reader.width != output.width || reader.height != output.height || !square {
                // Letterbox or pillarbox: fit inside the frame, keep the shape, centre on black.
                filters.append(("scale", ["w": String(output.width), "h": String(output.height), "force_original_aspect_ratio": "decrease", "flags": "bicubic"]))
                filters.append(("pad", ["w": String(output.width), "h": String(output.height), "x": "-1", "y": "-1", "color": "black"]))
            }
            filters.append(("setsar", ["sar": "1"]))
            // Exactly the layout's frame count: a short source repeats its last frame, a long one is cut.
            filters.append(("tpad", ["stop_mode": "clone", "stop": String(frames)]))
            filters.append(("trim", ["end_frame": String(frames)]))
            filters.append(("format", ["pix_fmts": "yuv420p"]))
            let normalised = try graph.chain(source.pad, filters)

            let incoming = layout.incomingFrames(i), outgoing = layout.transitionFrames[i]
            let parts = [(0, incoming), (incoming, frames - outgoing), (frames - outgoing, frames)]
            let wanted = parts.filter { $0.1 > $0.0 }
            let pads = wanted.count == 1 ? [normalised] : try graph.split("split", outputs: wanted.count, input: normalised)
            var next = pads.makeIterator()
            var cut: [FilterGraph.Pad?] = []
            for (from, to) in parts {
                guard to > from, let pad = next.next() else {
                    cut.append(nil)
                    continue
                }
                if wanted.count == 1 {
                    cut.append(pad)
                } else {
                    cut.append(try graph.chain(pad, [("trim", ["start_frame": String(from), "end_frame": String(to)]), ("setpts", ["expr": "PTS-STARTPTS"])]))
                }
            }
            heads.append(cut[0])
            bodies.append(cut[1])
            tails.append(cut[2])
        }
        var segments: [FilterGraph.Pad] = []
        for i in timeline.video.indices {
            if let body = bodies[i] { segments.append(body) }
            if let tail = tails[i], i + 1 < timeline.video.count, let head = heads[i + 1], let type = timeline.video[i].transition?.type {
                let mixed = try graph.add("xfade", [
                    "transition": type.rawValue, "duration": String(layout.seconds(layout.transitionFrames[i])), "offset": "0",
                ], inputs: [tail, head])
                segments.append(try graph.add("format", ["pix_fmts": "yuv420p"], inputs: [mixed]))
            }
        }
        var film = segments.count == 1
            ? segments[0]
            : try graph.add("concat", ["n": String(segments.count), "v": "1", "a": "0"], inputs: segments)
        // Frame numbers as timestamps in 1/fps: the film is constant-rate, and concat's own
        // arithmetic (in microseconds) cannot place a one-frame segment.
        film = try graph.chain(film, [("settb", ["expr": "\(rate.den)/\(rate.num)"]), ("setpts", ["expr": "N"])])
        for overlay in timeline.overlays {
            film = try graph.add("drawtext", drawtextOptions(overlay), inputs: [film])
        }
        film = try graph.add("format", ["pix_fmts": "yuv420p"], inputs: [film])
        let sink = try graph.sink(film, audio: false)
        try graph.configure()
        return (graph, sink, feeds)
    }

    func drawtextOptions(_ overlay: TextOverlay) -> KeyValuePairs<String, String> {
        let start = overlay.start, end = overlay.end, fade = overlay.fade
        let pad = overlay.box?.padding ?? 0
        let alpha = fade > 0
            ? "clip(min((t-\(start))/\(fade),(\(end)-t)/\(fade)),0,1)"
            : "1"
        return [
            "fontfile": fonts[overlay.id] ?? "",
            "text": overlay.text,
            "expansion": "none",
            "fontsize": String(overlay.size),
            "fontcolor": overlay.color,
            "box": overlay.box == nil ? "0" : "1",
            "boxcolor": overlay.box?.color ?? "#00000000",
            "boxborderw": String(pad),
            // The text's centre at (x, y) of the frame, kept inside it with its box.
            "x": "max(\(pad),min(w-tw-\(pad),\(overlay.x)*w-tw/2))",
            "y": "max(\(pad),min(h-th-\(pad),\(overlay.y)*h-th/2))",
            "alpha": alpha,
            "enable": "gte(t,\(start))*lt(t,\(end))",
        ]
    }
}
