import CFFmpeg
import Foundation
import ReelBlocking
import ReelCore

/// The mixed path ("smart render"): the frames under transitions and overlays are rendered and
/// encoded, everything else is copied packet for packet from the clips, all in one H.264 track.
///
/// That only plays if one decoder can run through every join: the copied clips must carry the
/// headers (SPS and PPS) the segments' encoder writes, every copied span must open with a
/// keyframe and every segment with an IDR picture, and no frames may be reordered. Normalised
/// inputs (`InputNormalizer`) are made for this: the segments are encoded with the mezzanine's
/// settings, whose stitchable x264 headers do not depend on the picture or the quality. Which
/// clips qualify is found out by opening that encoder and comparing its headers with each
/// clip's; a clip that does not is rendered whole, like the transitions.
///
/// The written file is decoded end to end before it is renamed into place: its picture must
/// last as long as the timeline (to a frame) and every frame must decode cleanly. A mismatch
/// throws `FastPathMismatch` and the caller renders the full way instead.
struct MixedRender {
    let timeline: Timeline
    let media: [String: URL]
    let facts: [String: MediaFacts]
    /// Font file for each overlay, by overlay id.
    let fonts: [String: String]
    let threads: Int
    let control: RenderControl
    /// Where the soundtrack is mixed alongside the picture.
    let blocking: BlockingPool

    /// Shorter copied spans are re-encoded: a join costs an encoder's start.
    static let minimumCopySeconds = 0.5
    /// Below this share of copied frames the full path is as quick and needs no check.
    static let minimumCopiedFraction = 0.2


    /// The plan, and where each clip's first frame lies in its file (seconds, for seeking).
    struct Prepared {
        var plan: MixedRenderPlan
        var firstSeconds: [Double]
    }

    enum Decision {
        case mix(Prepared)
        case reencode(String)
    }

    /// Which frames to copy: opens the segment encoder for its headers and reads each clip's
    /// headers and packet index (no decoding).
    func plan() throws -> Decision {
        let output = timeline.output
        guard output.format == .mp4 else { return .reencode("the mixed path writes H.264 in MP4 only, the output is \(output.format.rawValue)") }
        let encoder = try InputNormalizer.mezzanineEncoder(for: output, threads: 1, path: nil)
        guard let headers = H264Bitstream.ParameterSets(extradata: encoder.extradata) else {
            return .reencode("the segment encoder wrote no H.264 headers")
        }
        let layout = timeline.layout
        var clips: [MixedRenderPlan.Clip] = []
        var firstSeconds: [Double] = []
        var firstReason: String?
        for (i, clip) in timeline.video.enumerated() {
            let label = "video[\(i)] \"\(clip.id)\""
            switch try examine(clip, label: label, headers: headers) {
            case .success(let (keyframes, frames, first)):
                clips.append(MixedRenderPlan.Clip(copyable: true, keyframes: keyframes, frames: frames))
                firstSeconds.append(first)
            case .failure(let why):
                firstReason = firstReason ?? "\(label) \(why.description)"
                clips.append(MixedRenderPlan.Clip(copyable: false, keyframes: [], frames: 0))
                firstSeconds.append(clip.inPoint)
            }
        }
        let overlays = timeline.overlays.map { MixedRenderPlan.frames(of: $0, fps: layout.fps) }
        let minimum = max(1, Int((Self.minimumCopySeconds * layout.fps).rounded()))
        let plan = MixedRenderPlan(layout: layout, overlays: overlays, clips: clips, minimumCopy: minimum)
        if plan.copiedFrames == 0 {
            return .reencode(firstReason ?? "no clip has a keyframe-aligned span outside transitions and overlays long enough to copy")
        }
        if plan.copiedFraction < Self.minimumCopiedFraction {
            return .reencode(String(format: "only %.0f%% of the picture could be copied", plan.copiedFraction * 100) + (firstReason.map { " (\($0))" } ?? ""))
        }
        return .mix(Prepared(plan: plan, firstSeconds: firstSeconds))
    }

    /// Writes the film to `url` and returns what libav reads back and the soundtrack's loudness.
    func render(_ prepared: Prepared, to url: URL) throws -> (MediaFacts, Double?) {
        let output = timeline.output
        let layout = timeline.layout
        let plan = prepared.plan
        let rate = OutputEncoders.frameRate(output.fps)
        let frameBase = AVRational(num: rate.den, den: rate.num)
        let file = try OutputFile(url)

        // The track's headers are a copied clip's (an avcC box): the segments' encoder writes the same.
        guard case .copy(let reference, _, _)? = plan.pieces.first(where: { if case .copy = $0 { true } else { false } }) else {
            throw FastPathMismatch(description: "nothing to copy")
        }
        let videoOut = try VideoClipReader.wrap("video[\(reference)]") { () throws(MediaError) in
            let input = try InputFile(media[timeline.video[reference].asset]!)
            return try file.addStream(copying: try input.bestStream(AVMEDIA_TYPE_VIDEO))
        }
        videoOut.pointee.time_base = frameBase
        guard let trackHeaders = H264Bitstream.ParameterSets(extradata: videoOut.pointee.codecpar.pointee.extradataBytes) else {
            throw FastPathMismatch(description: "video[\(reference)]: its headers cannot be read")
        }
        let audio = try OutputEncoders.audio(output, path: url.path, globalHeader: file.wantsGlobalHeader)
        let audioOut = try file.addStream(for: audio)
        try file.writeHeader(faststart: true)

        let soundControl = control.companion()
        let soundtrack = ConcurrentSoundtrack(
            timeline: timeline, media: media, facts: facts, threads: threads, encoder: audio, control: soundControl, blocking: blocking)
        var finished = false
        defer { if !finished { soundControl.cancel() } }
        let interleaver = Interleaver(file: file, soundtrack: soundtrack, soundStream: audioOut, pictureStream: videoOut, pictureBase: frameBase)

        // Progress by work: a copied frame costs next to nothing, the final check a fraction of an encoded one.
        let encodedFrames = plan.totalFrames - plan.copiedFrames
        let work = Double(encodedFrames) + 0.05 * Double(plan.copiedFrames) + 0.2 * Double(plan.totalFrames)
        var done = 0.0
        func advance(_ amount: Double) {
            done += amount
            control.progress(done / max(1, work))
        }

        for piece in plan.pieces {
            switch piece {
            case .encode(let film):
                try encodeSegment(film, layout: layout, path: url.path, lengthSize: trackHeaders.lengthSize) { packet in
                    try interleaver.add(packet)
                    advance(1)
                }
            case .copy(let clip, let film, let clipFrame):
                try copySpan(clip: clip, film: film, clipFrame: clipFrame, firstSeconds: prepared.firstSeconds[clip], frameBase: frameBase) { packet in
                    try interleaver.add(packet)
                    advance(0.05)
                }
            }
        }
        let loudness = try interleaver.finish()
        finished = true
        try control.checkCancelled()
        let expected = layout.totalFrames
        try file.finish { written in
            let facts = try MediaProbe.probe(written)
            let seconds = facts.videoStream?.durationSeconds ?? facts.durationSeconds ?? 0
            if abs(seconds - layout.duration) > layout.seconds(1) * 1.01 {
                throw FastPathMismatch(description: String(format: "the mixed path gave %.3f s of picture, the timeline is %.3f s", seconds, layout.duration))
            }
            let check = try DecodeCheck.frames(of: written, threads: threads, control: control) { advance(0.2) }
            if check.frames != expected || check.damaged > 0 {
                throw FastPathMismatch(description: "the mixed path's film decodes to \(check.frames) frames (\(check.damaged) damaged), the timeline has \(expected)")
            }
        }
        control.progress(1, force: true)
        return (try MediaProbe.probe(url), loudness)
    }

    // MARK: Planning

    /// A clip's keyframes and frame count from its in point, and its first frame's time; or
    /// why its packets cannot be copied into the film.
    private func examine(_ clip: TimelineClip, label: String, headers: H264Bitstream.ParameterSets) throws -> Result<([Int], Int, Double), FastPathMismatch> {
        let output = timeline.output
        guard let video = facts[clip.asset]?.videoStream, let url = media[clip.asset] else { return .failure(FastPathMismatch(description: "has no probed video")) }
        if let why = video.pictureMismatch(codec: "h264", output: output) { return .failure(FastPathMismatch(description: why)) }

        let input = try VideoClipReader.wrap(label) { () throws(MediaError) in try InputFile(url) }
        let stream = try VideoClipReader.wrap(label) { () throws(MediaError) in try input.bestStream(AVMEDIA_TYPE_VIDEO) }
        let parameters = stream.pointee.codecpar.pointee
        let extradata = parameters.extradataBytes
        guard extradata.first == 1, let own = H264Bitstream.ParameterSets(extradata: extradata) else {
            return .failure(FastPathMismatch(description: "does not carry its headers as MP4 does (avcC)"))
        }
        if own != headers {
            return .failure(FastPathMismatch(description: "has other codec headers than the segments' encoder (x264 \(InputNormalizer.preset), stitchable); normalised inputs have them"))
        }
        if parameters.video_delay > 0 { return .failure(FastPathMismatch(description: "has reordered frames (B-frames)")) }

        // The packet index from the in point to the out point: which frames are keyframes, and
        // that frames come evenly at the output's rate (they are counted, not timed, when copied).
        input.readOnly(stream)
        let base = stream.pointee.time_base
        let origin = InputFile.startTime(of: stream)
        let frame = 1 / output.fps
        if clip.inPoint > 0 {
            try VideoClipReader.wrap(label) { () throws(MediaError) in try input.seek(stream, to: origin + Int64((clip.inPoint / av_q2d(base)).rounded())) }
        }
        var keyframes: [Int] = []
        var count = 0
        var first: Double?
        var previous = -Double.infinity
        let packet = Packet()
        while try VideoClipReader.wrap(label, { () throws(MediaError) in try input.readPacket(into: packet.pointer) }) {
            defer { av_packet_unref(packet.pointer) }
            let p = packet.pointer.pointee
            guard p.stream_index == stream.pointee.index else { continue }
            let pts = p.pts == reel_av_nopts_value() ? p.dts : p.pts
            guard pts != reel_av_nopts_value() else { return .failure(FastPathMismatch(description: "has packets without timestamps")) }
            let seconds = Double(pts - origin) * av_q2d(base)
            if seconds <= previous { return .failure(FastPathMismatch(description: "has packets out of order")) }
            previous = seconds
            if seconds < clip.inPoint - frame / 2 { continue }
            if seconds >= clip.outPoint - frame / 2 { break }
            let start = first ?? seconds
            first = start
            if abs(seconds - (start + Double(count) * frame)) > frame / 2 {
                return .failure(FastPathMismatch(description: "has frames not evenly spaced at \(output.fps) fps"))
            }
            if (p.flags & AV_PKT_FLAG_KEY) != 0 { keyframes.append(count) }
            count += 1
        }
        return .success((keyframes, count, first ?? clip.inPoint))
    }

    // MARK: Rendering

    /// Renders film frames `film` as a timeline of their own — the clips' parts that fall in it,
    /// their transitions, the overlays shifted to its start, through `GraphRender`'s graph —
    /// with a fresh segment encoder, so it opens with an IDR picture; packets go to `body` in
    /// `1/fps` with film frame numbers as timestamps, in MP4's length-prefixed layout.
    private func encodeSegment(
        _ film: Range<Int>, layout: TimelineLayout, path: String, lengthSize: Int, _ body: (UnsafeMutablePointer<AVPacket>) throws -> Void
    ) throws {
        let segment = self.segment(film, layout: layout)
        let segmentLayout = segment.layout
        guard segmentLayout.totalFrames == film.count else {
            throw FastPathMismatch(description: "frames \(film) laid out as \(segmentLayout.totalFrames) frames on their own")
        }
        let render = GraphRender(timeline: segment, media: media, facts: facts, fonts: fonts, threads: threads, control: control, blocking: blocking)
        let (graph, sink, feeds) = try render.buildVideoGraph(layout: segmentLayout)
        let encoder = try InputNormalizer.mezzanineEncoder(for: timeline.output, threads: threads, path: path)
        let sinkBase = av_buffersink_get_time_base(sink)
        let encoderBase = encoder.context.pointee.time_base
        let converted = Packet()
        var written = 0
        func write(_ packet: UnsafeMutablePointer<AVPacket>) throws {
            if written == 0, (packet.pointee.flags & AV_PKT_FLAG_KEY) == 0 {
                throw FastPathMismatch(description: "the segment at frame \(film.lowerBound) does not open with a keyframe")
            }
            // The encoder's time base is 1/fps: its timestamps are frame numbers within the segment.
            let frame = packet.pointee.pts
            try Self.lengthPrefixed(packet, lengthSize: lengthSize, into: converted.pointer)
            defer { av_packet_unref(converted.pointer) }
            converted.pointer.pointee.pts = Int64(film.lowerBound) + frame
            converted.pointer.pointee.dts = converted.pointer.pointee.pts
            converted.pointer.pointee.duration = 1
            written += 1
            try body(converted.pointer)
        }
        try graph.run(sink: sink, feeds: feeds, control: control) { frame in
            frame.pointee.pts = av_rescale_q(frame.pointee.pts, sinkBase, encoderBase)
            frame.pointee.pict_type = AV_PICTURE_TYPE_NONE
            try encoder.encode(frame, write)
        }
        try encoder.encode(nil, write)
        if written != film.count {
            throw FastPathMismatch(description: "the segment at frame \(film.lowerBound) gave \(written) frames, not \(film.count)")
        }
    }

    /// The part of the timeline that plays over film frames `film`, as a timeline starting at 0.
    /// Segments never cut through a transition (the plan re-encodes transitions whole), so a
    /// clip keeps its transition exactly when its end falls in the segment.
    func segment(_ film: Range<Int>, layout: TimelineLayout) -> Timeline {
        var clips: [TimelineClip] = []
        for (i, clip) in timeline.video.enumerated() {
            let start = layout.startFrames[i]
            let from = max(film.lowerBound - start, 0), to = min(film.upperBound - start, layout.clipFrames[i])
            guard to > from else { continue }
            var part = clip
            if from > 0 { part.inPoint = clip.inPoint + layout.seconds(from) }
            if to < layout.clipFrames[i] {
                part.outPoint = clip.inPoint + layout.seconds(to)
                part.transition = nil
            }
            clips.append(part)
        }
        if !clips.isEmpty { clips[clips.count - 1].transition = nil }
        let shift = layout.seconds(film.lowerBound)
        let overlays = timeline.overlays.compactMap { overlay -> TextOverlay? in
            guard MixedRenderPlan.frames(of: overlay, fps: layout.fps).overlaps(film) else { return nil }
            var shifted = overlay
            shifted.start -= shift
            shifted.end -= shift
            return shifted
        }
        return Timeline(video: clips, overlays: overlays, output: timeline.output)
    }

    /// Copies clip `clip`'s frames from `clipFrame` (a keyframe) into film frames `film`.
    private func copySpan(
        clip index: Int, film: Range<Int>, clipFrame: Int, firstSeconds: Double, frameBase: AVRational,
        _ body: (UnsafeMutablePointer<AVPacket>) throws -> Void
    ) throws {
        let clip = timeline.video[index]
        let label = "video[\(index)] \"\(clip.id)\""
        let input = try VideoClipReader.wrap(label) { () throws(MediaError) in try InputFile(media[clip.asset]!) }
        let stream = try VideoClipReader.wrap(label) { () throws(MediaError) in try input.bestStream(AVMEDIA_TYPE_VIDEO) }
        input.readOnly(stream)
        let base = stream.pointee.time_base
        let origin = InputFile.startTime(of: stream)
        let frame = 1 / timeline.output.fps
        let target = firstSeconds + Double(clipFrame) * frame
        try VideoClipReader.wrap(label) { () throws(MediaError) in try input.seek(stream, to: origin + Int64((target / av_q2d(base)).rounded())) }
        let packet = Packet()
        var copied = 0
        while copied < film.count, try VideoClipReader.wrap(label, { () throws(MediaError) in try input.readPacket(into: packet.pointer) }) {
            defer { av_packet_unref(packet.pointer) }
            try control.checkCancelled()
            let p = packet.pointer
            guard p.pointee.stream_index == stream.pointee.index else { continue }
            let pts = p.pointee.pts == reel_av_nopts_value() ? p.pointee.dts : p.pointee.pts
            let seconds = Double(pts - origin) * av_q2d(base)
            if seconds < target - frame / 2 { continue }
            if copied == 0 {
                guard (p.pointee.flags & AV_PKT_FLAG_KEY) != 0, abs(seconds - target) < frame / 2 else {
                    throw FastPathMismatch(description: "\(label): the copy from its frame \(clipFrame) does not start on a keyframe")
                }
            }
            p.pointee.pts = Int64(film.lowerBound + copied)
            p.pointee.dts = p.pointee.pts
            p.pointee.duration = 1
            p.pointee.pos = -1
            copied += 1
            try body(p)
        }
        if copied != film.count {
            throw FastPathMismatch(description: "\(label): \(copied) frames to copy from its frame \(clipFrame), not \(film.count)")
        }
    }

    /// `packet` (libx264's Annex B) rewritten into `out` with length-prefixed NAL units, as
    /// the copied packets and the track's avcC headers have them; timestamps and flags kept.
    static func lengthPrefixed(_ packet: UnsafeMutablePointer<AVPacket>, lengthSize: Int, into out: UnsafeMutablePointer<AVPacket>) throws(MediaError) {
        let bytes = UnsafeBufferPointer(start: packet.pointee.data, count: Int(packet.pointee.size))
        guard H264Bitstream.isAnnexB(bytes) else {
            try check(av_packet_ref(out, packet), .encode, path: nil, "referencing a packet")
            return
        }
        let converted = H264Bitstream.lengthPrefixed(bytes, lengthSize: lengthSize)
        try check(av_new_packet(out, Int32(converted.count)), .encode, path: nil, "allocating a packet")
        converted.withUnsafeBufferPointer { out.pointee.data.update(from: $0.baseAddress!, count: converted.count) }
        try check(av_packet_copy_props(out, packet), .encode, path: nil, "copying a packet's properties")
    }
}
