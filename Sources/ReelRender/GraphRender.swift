import CFFmpeg
import Foundation
import ReelBlocking
import ReelCore

/// The full path: every clip decoded once into the film's libavfilter graph (normalised to the
/// output's size, rate and pixel format, laid end to end by `concat`, transitions by `xfade`,
/// overlays by `drawtext`) and encoded once, while `ConcurrentSoundtrack` mixes and encodes the sound.
struct GraphRender {
    let timeline: Timeline
    /// Files for the asset ids the timeline names.
    let media: [String: URL]
    let facts: [String: MediaFacts]
    /// Font file for each overlay, by overlay id.
    let fonts: [String: String]
    let threads: Int
    let control: RenderControl
    /// Where the soundtrack is mixed alongside the picture.
    let blocking: BlockingPool
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

        // The sound is mixed and encoded alongside the picture.
        let soundControl = control.companion()
        let soundtrack = ConcurrentSoundtrack(
            timeline: timeline, media: media, facts: facts, threads: threads, encoder: audio, control: soundControl, blocking: blocking)
        var finished = false
        defer { if !finished { soundControl.cancel() } }
        let encoderBase = video.context.pointee.time_base
        let interleaver = Interleaver(file: file, soundtrack: soundtrack, soundStream: audioStream, pictureStream: videoStream, pictureBase: encoderBase)

        let layout = timeline.layout
        let (graph, sink, feeds) = try buildVideoGraph(layout: layout)
        let sinkBase = av_buffersink_get_time_base(sink)
        let write: (UnsafeMutablePointer<AVPacket>) throws -> Void = { packet in
            if packet.pointee.duration == 0 { packet.pointee.duration = 1 }
            try interleaver.add(packet)
        }
        var frames = 0
        let total = Double(max(1, layout.totalFrames))
        try graph.run(sink: sink, feeds: feeds, control: control) { frame in
            frame.pointee.pts = av_rescale_q(frame.pointee.pts, sinkBase, encoderBase)
            frame.pointee.pict_type = AV_PICTURE_TYPE_NONE
            try video.encode(frame, write)
            frames += 1
            control.progress(0.98 * Double(frames) / total)
        }
        try video.encode(nil, write)
        let loudness = try interleaver.finish()
        finished = true
        try control.checkCancelled()
        try file.finish()
        return loudness
    }

    /// The film's graph: one `concat` of segments — each clip's part that plays alone,
    /// normalised in this graph, and each transition, made by `TransitionFeed` from the
    /// outgoing clip's tail and the incoming clip's head — then overlays drawn over the joined film.
    ///
    /// Only the transitions' frames go through `xfade`, because FFmpeg 5.1's xfade works in
    /// 4:4:4 only: chaining whole clips through it (as one would with the ffmpeg tool) converts
    /// every frame of the film up to 4:4:4 and back; here just the overlapping frames are.
    func buildVideoGraph(layout: TimelineLayout) throws -> (FilterGraph, UnsafeMutablePointer<AVFilterContext>, [(FilterGraph.Source, any FrameFeed)]) {
        let output = timeline.output
        let graph = try FilterGraph(name: "video graph", threads: threads)
        let rate = OutputEncoders.frameRate(output.fps)
        let frameBase = AVRational(num: rate.den, den: rate.num)
        var feeds: [(FilterGraph.Source, any FrameFeed)] = []
        // Per clip, the parts as (reader, feed): head (the incoming transition's frames), body, tail.
        typealias Part = (reader: VideoClipReader, feed: any FrameFeed, frames: Int)
        var heads: [Part?] = [], bodies: [Part?] = [], tails: [Part?] = []
        for (i, clip) in timeline.video.enumerated() {
            let label = "video[\(i)] \"\(clip.id)\""
            guard let url = media[clip.asset] else { throw MediaError(.invalidInput, path: nil, message: "\(label): asset \"\(clip.asset)\" has no file") }
            let reader = try VideoClipReader(url: url, in: clip.inPoint, out: clip.outPoint, threads: threads, label: label)
            let frames = layout.clipFrames[i]
            let incoming = layout.incomingFrames(i), outgoing = layout.transitionFrames[i]
            let spans = [(0, incoming), (incoming, frames - outgoing), (frames - outgoing, frames)].filter { $0.1 > $0.0 }
            let parts = ClipParts(reader: reader, boundaries: spans.dropFirst().map { layout.seconds($0.0) })
            var made = spans.enumerated().map { n, span in Part(reader, parts.part(n), span.1 - span.0) }.makeIterator()
            heads.append(incoming > 0 ? made.next() : nil)
            bodies.append(frames - outgoing > incoming ? made.next() : nil)
            tails.append(outgoing > 0 ? made.next() : nil)
        }
        var segments: [FilterGraph.Pad] = []
        for i in timeline.video.indices {
            let label = "video[\(i)] \"\(timeline.video[i].id)\""
            if let body = bodies[i] {
                let source = try source(in: graph, for: body.reader, label: "\(label) body")
                feeds.append((source, body.feed))
                segments.append(try graph.chain(source.pad, normalising(body.reader, frames: body.frames, rate: rate)))
            }
            if let tail = tails[i], i + 1 < timeline.video.count, let head = heads[i + 1], let type = timeline.video[i].transition?.type {
                let source = try graph.videoSource(
                    label: "\(label) transition", width: output.width, height: output.height, format: AV_PIX_FMT_YUV420P,
                    timeBase: frameBase, sampleAspect: AVRational(num: 1, den: 1), frameRate: rate)
                let seconds = layout.seconds(layout.transitionFrames[i])
                let threads = self.threads
                feeds.append((source, TransitionFeed(control: control) {
                    let mix = try FilterGraph(name: "\(label) transition graph", threads: threads)
                    let from = try self.source(in: mix, for: tail.reader, label: "\(label) tail")
                    let to = try self.source(in: mix, for: head.reader, label: "video[\(i + 1)] head")
                    let mixed = try mix.add("xfade", ["transition": type.rawValue, "duration": String(seconds), "offset": "0"], inputs: [
                        try mix.chain(from.pad, self.normalising(tail.reader, frames: tail.frames, rate: rate)),
                        try mix.chain(to.pad, self.normalising(head.reader, frames: head.frames, rate: rate)),
                    ])
                    let sink = try mix.sink(try mix.add("format", ["pix_fmts": "yuv420p"], inputs: [mixed]), audio: false)
                    try mix.configure()
                    return (mix, sink, [(from, tail.feed), (to, head.feed)])
                }))
                segments.append(source.pad)
            }
        }
        var film = segments.count == 1
            ? segments[0]
            : try graph.add("concat", ["n": String(segments.count), "v": "1", "a": "0"], inputs: segments)
        // Frame numbers as timestamps in 1/fps: the film is constant-rate, and concat's own
        // arithmetic (in microseconds) cannot place a one-frame segment.
        film = try graph.chain(film, [("settb", ["expr": "\(rate.den)/\(rate.num)"]), ("setpts", ["expr": "N"])])
        for overlay in timeline.overlays {
            for options in try drawtexts(overlay) {
                film = try graph.add("drawtext", options, inputs: [film])
            }
        }
        film = try graph.add("format", ["pix_fmts": "yuv420p"], inputs: [film])
        let sink = try graph.sink(film, audio: false)
        try graph.configure()
        return (graph, sink, feeds)
    }

    /// A graph source for frames as `reader` decodes them.
    private func source(in graph: FilterGraph, for reader: VideoClipReader, label: String) throws(MediaError) -> FilterGraph.Source {
        try graph.videoSource(
            label: label, width: reader.width, height: reader.height, format: reader.pixelFormat,
            timeBase: reader.timeBase, sampleAspect: reader.sampleAspect, frameRate: reader.frameRate)
    }

    /// A part of a clip brought to the output's rate, size (letterboxed or pillarboxed) and
    /// pixel format, with exactly `frames` frames: a short one repeats its last frame, a long one is cut.
    private func normalising(_ reader: VideoClipReader, frames: Int, rate: AVRational) -> [(String, KeyValuePairs<String, String>)] {
        let output = timeline.output
        var filters: [(String, KeyValuePairs<String, String>)] = [("fps", ["fps": "\(rate.num)/\(rate.den)"])]
        let sar = reader.sampleAspect
        let square = sar.num == 0 || sar.num == sar.den
        if reader.width != output.width || reader.height != output.height || !square {
            filters.append(("scale", ["w": String(output.width), "h": String(output.height), "force_original_aspect_ratio": "decrease", "flags": "bicubic"]))
            filters.append(("pad", ["w": String(output.width), "h": String(output.height), "x": "-1", "y": "-1", "color": "black"]))
        }
        filters.append(("setsar", ["sar": "1"]))
        filters.append(("tpad", ["stop_mode": "clone", "stop": String(frames)]))
        filters.append(("trim", ["end_frame": String(frames)]))
        filters.append(("format", ["pix_fmts": "yuv420p"]))
        return filters
    }

    /// The `drawtext` filters that draw `overlay`, fitted to the frame (`TextLayout`): one for
    /// text on a single line; for wrapped text, one per line, each centred on the block, after
    /// one that draws only the block's box (drawtext aligns the lines of one text to the left).
    func drawtexts(_ overlay: TextOverlay) throws(MediaError) -> [KeyValuePairs<String, String>] {
        let output = timeline.output
        let fontFile = fonts[overlay.id] ?? ""
        let fitted = try TextLayout.fit(overlay, fontFile: fontFile, frameWidth: output.width, frameHeight: output.height)
        let start = overlay.start, end = overlay.end, fade = overlay.fade
        let pad = max(0, overlay.box?.padding ?? 0)
        let margins = TextLayout.margins(frameWidth: output.width, frameHeight: output.height)
        // The nearest the text may come to the frame's edges: its box then stays inside the margins.
        let left = margins.x + pad, top = margins.y + pad
        let alpha = fade > 0
            ? "clip(min((t-\(start))/\(fade),(\(end)-t)/\(fade)),0,1)"
            : "1"
        let enable = "gte(t,\(start))*lt(t,\(end))"
        let size = String(fitted.size)
        guard fitted.lines.count > 1 else {
            return [[
                "fontfile": fontFile,
                "text": fitted.lines.first ?? "",
                "expansion": "none",
                "fontsize": size,
                "fontcolor": overlay.color,
                "box": overlay.box == nil ? "0" : "1",
                "boxcolor": overlay.box?.color ?? "#00000000",
                "boxborderw": String(pad),
                // The text's centre at (x, y) of the frame, kept inside its margins with its box.
                "x": "max(\(left),min(w-tw-\(left),\(overlay.x)*w-tw/2))",
                "y": "max(\(top),min(h-th-\(top),\(overlay.y)*h-th/2))",
                "alpha": alpha,
                "enable": enable,
            ]]
        }
        // The block's place, as the single-line expressions would put it, in whole pixels so
        // that the box and the lines agree.
        func place(_ centre: Double, _ length: Int, _ frame: Int, _ inset: Int) -> Int {
            max(inset, min(frame - length - inset, Int((centre - Double(length) / 2).rounded(.down))))
        }
        let blockLeft = place(overlay.x * Double(output.width), fitted.width, output.width, left)
        let blockTop = place(overlay.y * Double(output.height), fitted.height, output.height, top)
        let centre = Double(blockLeft) + Double(fitted.width) / 2
        var filters: [KeyValuePairs<String, String>] = []
        if let box = overlay.box {
            // All the lines in one text, so the box has the block's size; the text itself transparent.
            filters.append([
                "fontfile": fontFile, "text": fitted.lines.joined(separator: "\n"), "expansion": "none", "fontsize": size,
                "fontcolor": "#00000000", "box": "1", "boxcolor": box.color, "boxborderw": String(pad),
                "x": String(blockLeft), "y": String(blockTop), "alpha": alpha, "enable": enable,
            ])
        }
        for (i, line) in fitted.lines.enumerated() where !line.isEmpty {
            // drawtext puts a text's baseline `max_glyph_a` below its y; each line's baseline
            // is where the box's text has it.
            let baseline = blockTop + i * fitted.lineHeight + fitted.ascent
            filters.append([
                "fontfile": fontFile, "text": line, "expansion": "none", "fontsize": size, "fontcolor": overlay.color, "box": "0",
                "x": "max(\(left),min(w-tw-\(left),\(centre)-tw/2))", "y": "\(baseline)-max_glyph_a", "alpha": alpha, "enable": enable,
            ])
        }
        return filters
    }
}
