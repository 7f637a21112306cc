import CFFmpeg
import Foundation

/// Decodes the pictures of one span `[in, out)` of a video asset, in order, with timestamps
/// rebased so the span starts at 0: what a clip feeds into the render graph.
final class VideoClipReader {
    let url: URL
    let timeBase: AVRational
    /// Names the clip in errors: `video[2] "s3"`.
    let label: String
    let width: Int
    let height: Int
    let pixelFormat: AVPixelFormat
    let sampleAspect: AVRational
    let frameRate: AVRational
    /// The file, opened at the first frame asked for and closed at the span's end (the picture's
    /// shape is read when the reader is made, with the file closed again at once). A film's graph
    /// makes a reader for every clip before it runs; this way it holds files, demuxers and
    /// decoders (their threads and frame pools) only for the clips playing now, however many
    /// clips the timeline has.
    private var open: (input: InputFile, stream: UnsafeMutablePointer<AVStream>, decoder: Decoder?)?
    private let streamIndex: Int
    private let threads: Int
    private var startPTS: Int64 = 0
    /// The stream's first timestamp and the length its container declares (nil if it does not).
    private var origin: Int64 = 0
    private var declaredSeconds: Double?
    /// The span and half a frame, in seconds from the stream's start: compared as numbers, since
    /// a coarse time base (1/fps) cannot hold half a frame.
    private let inPoint: Double
    private let outPoint: Double
    private let halfFrame: Double
    private let frameTicks: Int64
    /// The timestamp the next frame would have, for frames that come without one (still images).
    private var expectedPTS: Int64?
    private let packet = Packet()
    private var ready: [Frame] = []
    private var endOfInput = false
    private var done = false

    init(url: URL, in inPoint: Double, out outPoint: Double, threads: Int, label: String) throws(MediaError) {
        self.url = url
        self.label = label
        let input = try Self.wrap(label) { () throws(MediaError) in try InputFile(url) }
        let stream = try Self.wrap(label) { () throws(MediaError) in try input.bestStream(AVMEDIA_TYPE_VIDEO) }
        let parameters = stream.pointee.codecpar.pointee
        guard parameters.format >= 0, parameters.width > 0, parameters.height > 0 else {
            throw MediaError(.probe, path: input.path, message: "\(label): libav cannot tell the picture's size or pixel format (damaged or unsupported file)")
        }
        streamIndex = Int(stream.pointee.index)
        timeBase = stream.pointee.time_base
        width = Int(parameters.width)
        height = Int(parameters.height)
        pixelFormat = AVPixelFormat(parameters.format)
        sampleAspect = parameters.sample_aspect_ratio
        let rate = Self.frameRate(of: stream)
        frameRate = rate
        self.threads = threads
        halfFrame = 0.5 * Double(rate.den) / Double(rate.num)
        frameTicks = max(1, av_rescale_q(1, AVRational(num: rate.den, den: rate.num), timeBase))
        self.inPoint = inPoint
        self.outPoint = outPoint
    }

    /// Opens the file (again) and seeks to the in point: at the first frame asked for.
    private func opened() throws(MediaError) -> (input: InputFile, stream: UnsafeMutablePointer<AVStream>, decoder: Decoder?) {
        if let open { return open }
        let input = try InputFile(url)
        guard streamIndex < input.streamCount else { throw MediaError(.probe, path: input.path, message: "the file changed while rendering") }
        let stream = input.stream(streamIndex)
        // Only this stream is demuxed into packets; the others are skipped at the container level.
        input.readOnly(stream)
        origin = InputFile.startTime(of: stream)
        let duration = stream.pointee.duration
        declaredSeconds = duration != reel_av_nopts_value() && duration > 0 ? Double(duration) * av_q2d(timeBase) : nil
        startPTS = origin + Int64((inPoint / av_q2d(timeBase)).rounded())
        if inPoint > 0 { try input.seek(stream, to: startPTS) }
        let made = (input: input, stream: stream, decoder: Decoder?.none)
        open = made
        return made
    }

    /// Moves the next picture of the span into `frame`; false once the span is over.
    func next(into frame: UnsafeMutablePointer<AVFrame>) throws(MediaError) -> Bool {
        while ready.isEmpty && !done {
            try Self.wrap(label) { () throws(MediaError) in try decodeMore() }
        }
        guard !ready.isEmpty else {
            // The span is over: its file, demuxer and decoder go now, not when the render ends.
            open = nil
            return false
        }
        let next = ready.removeFirst()
        // Held until the move is done: the Frame frees its AVFrame when released.
        withExtendedLifetime(next) { av_frame_move_ref(frame, next.pointer) }
        return true
    }

    private func decodeMore() throws(MediaError) {
        if endOfInput {
            try decode(nil)
            if !done { try checkNotCutShort() }
            done = true
            return
        }
        let (input, stream, _) = try opened()
        guard try input.readPacket(into: packet.pointer) else {
            endOfInput = true
            return
        }
        defer { av_packet_unref(packet.pointer) }
        if packet.pointer.pointee.stream_index == stream.pointee.index { try decode(packet.pointer) }
    }

    private func decode(_ packet: UnsafeMutablePointer<AVPacket>?) throws(MediaError) {
        let file = try opened()
        var decoder = file.decoder
        if decoder == nil {
            decoder = try Decoder(stream: file.stream, path: file.input.path, threads: threads)
            open?.decoder = decoder
        }
        do {
            try decoder!.decode(packet) { decoded in
                guard !done else { return }
                var pts = decoded.pointee.best_effort_timestamp
                if pts == reel_av_nopts_value() { pts = decoded.pointee.pts }
                if pts == reel_av_nopts_value() { pts = expectedPTS ?? startPTS }
                expectedPTS = pts + frameTicks
                // A frame belongs to the span when its start is nearer the span than the frame before's.
                let seconds = Double(pts - startPTS) * av_q2d(timeBase) + inPoint
                if seconds < inPoint - halfFrame { return }
                if seconds >= outPoint - halfFrame {
                    done = true
                    return
                }
                let kept = Frame()
                av_frame_move_ref(kept.pointer, decoded)
                kept.pointer.pointee.pts = max(0, pts - startPTS)
                ready.append(kept)
            }
        } catch let error as MediaError {
            throw error
        } catch {
            throw MediaError(.decode, path: url.path, message: "\(error)")
        }
    }

    /// The input ended before the span did. A picture stream may well be shorter than its clip
    /// (the graph holds its last frame), but not shorter than the length its own container
    /// declares: then the file was cut short or its samples are damaged, and a film rendered
    /// from it would silently miss pictures.
    private func checkNotCutShort() throws(MediaError) {
        guard let declaredSeconds, let expectedPTS else { return }
        let reached = Double(expectedPTS - origin) * av_q2d(timeBase)
        let wanted = min(outPoint, declaredSeconds)
        // Two frames of slack: containers round the declared length.
        guard reached < wanted - 4 * halfFrame else { return }
        throw MediaError(
            .decode, path: url.path,
            message: String(format: "the picture ends at %.3f s, before the clip's out point (%.3f s), though the file declares %.3f s: the file is cut short or damaged",
                            reached, outPoint, declaredSeconds))
    }

    /// The stream's frame rate, 25 when the file does not say.
    static func frameRate(of stream: UnsafeMutablePointer<AVStream>) -> AVRational {
        let average = stream.pointee.avg_frame_rate
        if average.num > 0 && average.den > 0 { return average }
        let real = stream.pointee.r_frame_rate
        return real.num > 0 && real.den > 0 ? real : AVRational(num: 25, den: 1)
    }

    /// Prefixes a failure with the clip it belongs to, so the job names the input.
    static func wrap<T>(_ label: String, _ body: () throws(MediaError) -> T) throws(MediaError) -> T {
        do {
            return try body()
        } catch {
            throw error.naming(label)
        }
    }
}

extension MediaError {
    /// The same failure, its message prefixed with the timeline element it came from.
    func naming(_ element: String) -> MediaError {
        if message.hasPrefix(element) { return self }
        var named = self
        named.message = "\(element): \(message)"
        return named
    }
}
