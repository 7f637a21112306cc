import CFFmpeg

/// A libavfilter graph built filter by filter, fed by our own decoders through `buffer` /
/// `abuffer` sources and drained from `buffersink` / `abuffersink`.
///
/// Filters are created with `avfilter_graph_alloc_filter` and their options set one by one with
/// `av_opt_set`, never by parsing a graph description: overlay text, font paths and file names
/// need no escaping, and an invalid option fails naming its filter.
final class FilterGraph {
    /// An output pad of a filter, to link onward.
    struct Pad {
        let context: UnsafeMutablePointer<AVFilterContext>
        let index: Int32
    }

    /// A source the graph asks frames of.
    final class Source {
        let context: UnsafeMutablePointer<AVFilterContext>
        let label: String
        fileprivate(set) var finished = false
        /// The last frame's timestamp and how far the one after it would be, so that the end of
        /// the stream is placed after the last frame's duration (a single still frame is then one
        /// frame long to `fps`, not nothing).
        fileprivate var lastPTS: Int64?
        fileprivate var step: Int64
        init(context: UnsafeMutablePointer<AVFilterContext>, label: String, step: Int64) {
            self.context = context
            self.label = label
            self.step = step
        }
        var pad: Pad { Pad(context: context, index: 0) }
        /// How often the graph asked this source for a frame it did not have.
        var failedRequests: UInt32 { av_buffersrc_get_nb_failed_requests(context) }
    }

    private(set) var graph: UnsafeMutablePointer<AVFilterGraph>?
    /// Names the graph in errors ("video graph", "soundtrack").
    let name: String
    private var counter = 0

    init(name: String, threads: Int) throws(MediaError) {
        _ = libavLogLevelSet
        self.name = name
        guard let g = avfilter_graph_alloc() else { throw MediaError(.encode, path: nil, message: "out of memory allocating the \(name)") }
        graph = g
        g.pointee.nb_threads = Int32(max(1, threads))
    }

    deinit { avfilter_graph_free(&graph) }

    /// Adds filter `filterName` with `options` (set by name, values as text) linked from `inputs` in order.
    @discardableResult
    func add(_ filterName: String, _ options: KeyValuePairs<String, String> = [:], inputs: [Pad]) throws(MediaError) -> Pad {
        let context = try create(filterName, options.map { ($0.key, $0.value) })
        for (i, input) in inputs.enumerated() {
            try check(avfilter_link(input.context, UInt32(input.index), context, UInt32(i)), .encode, path: nil,
                      "\(name): linking into \(filterName)")
        }
        return Pad(context: context, index: 0)
    }

    /// A chain of single-input filters after `input`.
    func chain(_ input: Pad, _ filters: [(String, KeyValuePairs<String, String>)]) throws(MediaError) -> Pad {
        var pad = input
        for (filterName, options) in filters { pad = try add(filterName, options, inputs: [pad]) }
        return pad
    }

    /// A filter with several outputs (`asplit`, `split`), linked from `input`.
    func split(_ filterName: String, outputs: Int, input: Pad) throws(MediaError) -> [Pad] {
        let context = try create(filterName, [("outputs", String(outputs))])
        try check(avfilter_link(input.context, UInt32(input.index), context, 0), .encode, path: nil, "\(name): linking into \(filterName)")
        return (0..<outputs).map { Pad(context: context, index: Int32($0)) }
    }

    /// A video source for frames of the given shape, time base and rate.
    func videoSource(
        label: String, width: Int, height: Int, format: AVPixelFormat, timeBase: AVRational,
        sampleAspect: AVRational, frameRate: AVRational
    ) throws(MediaError) -> Source {
        let sar = sampleAspect.num > 0 && sampleAspect.den > 0 ? sampleAspect : AVRational(num: 1, den: 1)
        var options = [
            ("width", String(width)), ("height", String(height)), ("pix_fmt", String(format.rawValue)),
            ("time_base", "\(timeBase.num)/\(timeBase.den)"), ("sar", "\(sar.num)/\(sar.den)"),
        ]
        if frameRate.num > 0 && frameRate.den > 0 { options.append(("frame_rate", "\(frameRate.num)/\(frameRate.den)")) }
        let step = frameRate.num > 0 && frameRate.den > 0 ? max(1, av_rescale_q(1, AVRational(num: frameRate.den, den: frameRate.num), timeBase)) : 1
        return Source(context: try create("buffer", options), label: label, step: step)
    }

    /// An audio source of float planar stereo (or `channels`) at `sampleRate`, time base 1/rate.
    func audioSource(label: String, sampleRate: Int, channels: Int, format: AVSampleFormat = AV_SAMPLE_FMT_FLTP) throws(MediaError) -> Source {
        let layout = channels == 1 ? "mono" : channels == 2 ? "stereo" : "\(channels)c"
        let options = [
            ("time_base", "1/\(sampleRate)"), ("sample_rate", String(sampleRate)),
            ("sample_fmt", String(cString: av_get_sample_fmt_name(format))), ("channel_layout", layout),
        ]
        return Source(context: try create("abuffer", options), label: label, step: 1024)
    }

    /// Ends a chain in a sink; returns the sink's context for `pull`.
    func sink(_ input: Pad, audio: Bool) throws(MediaError) -> UnsafeMutablePointer<AVFilterContext> {
        let context = try create(audio ? "abuffersink" : "buffersink", [])
        try check(avfilter_link(input.context, UInt32(input.index), context, 0), .encode, path: nil, "\(name): linking the sink")
        return context
    }

    /// Checks every link and negotiates formats; call once, after the last filter is added.
    func configure() throws(MediaError) {
        try check(avfilter_graph_config(graph, nil), .encode, path: nil, "\(name): configuring the filter graph")
    }

    /// Hands `frame` (its reference moves into the graph) to `source`.
    func push(_ frame: UnsafeMutablePointer<AVFrame>, to source: Source) throws(MediaError) {
        let pts = frame.pointee.pts
        if pts != reel_av_nopts_value() {
            if frame.pointee.nb_samples > 0 {
                source.step = Int64(frame.pointee.nb_samples)
            } else if let last = source.lastPTS, pts > last {
                source.step = pts - last
            }
            source.lastPTS = pts
        }
        try check(av_buffersrc_add_frame_flags(source.context, frame, 0), .encode, path: nil, "\(name): feeding \(source.label)")
    }

    /// Tells the graph `source` has no more frames, ending it one frame's duration after the last.
    func finish(_ source: Source) throws(MediaError) {
        guard !source.finished else { return }
        source.finished = true
        let end = source.lastPTS.map { $0 + source.step } ?? reel_av_nopts_value()
        try check(av_buffersrc_close(source.context, end, 0), .encode, path: nil, "\(name): ending \(source.label)")
    }

    /// The outcome of asking a sink for a frame.
    enum PullResult { case frame, needsInput, finished }

    func pull(_ sink: UnsafeMutablePointer<AVFilterContext>, into frame: UnsafeMutablePointer<AVFrame>) throws(MediaError) -> PullResult {
        let rc = av_buffersink_get_frame(sink, frame)
        if rc >= 0 { return .frame }
        if rc == reel_averror_eagain() { return .needsInput }
        if rc == reel_averror_eof() { return .finished }
        try check(rc, .encode, path: nil, "\(name): filtering")
        return .finished
    }

    /// The source to feed next when a sink needs input: the one the graph asked most often
    /// (as the ffmpeg tool chooses), else the first still open.
    static func next(among sources: [Source]) -> Source? {
        let open = sources.filter { !$0.finished }
        var best: Source?
        var most: UInt32 = 0
        for source in open where source.failedRequests > most {
            most = source.failedRequests
            best = source
        }
        return best ?? open.first
    }

    private func create(_ filterName: String, _ options: [(String, String)]) throws(MediaError) -> UnsafeMutablePointer<AVFilterContext> {
        guard let filter = avfilter_get_by_name(filterName) else {
            throw MediaError(.encode, path: nil, message: "\(name): this libavfilter has no \(filterName) filter")
        }
        counter += 1
        guard let context = avfilter_graph_alloc_filter(graph, filter, "\(filterName)\(counter)") else {
            throw MediaError(.encode, path: nil, message: "\(name): out of memory adding \(filterName)")
        }
        for (key, value) in options {
            try check(av_opt_set(context, key, value, AV_OPT_SEARCH_CHILDREN), .encode, path: nil,
                      "\(name): \(filterName) option \(key)=\(value)")
        }
        try check(avfilter_init_str(context, nil), .encode, path: nil, "\(name): initialising \(filterName)")
        return context
    }
}
