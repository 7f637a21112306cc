import CFFmpeg
import Foundation
import ReelCore

/// The fast path: when no clip needs re-encoding (no transition or overlay on it, codec, size,
/// rate and codec headers the same as the output's and each other's, in points on keyframes),
/// the clips' video packets are copied end to end. Their own sound is copied too when nothing
/// else is mixed in and no loudness target is set; otherwise the soundtrack is mixed and encoded
/// as usual (sound is cheap next to picture).
///
/// The written file's video duration is checked against the timeline before it is renamed into
/// place; a mismatch throws `FastPathMismatch` and the caller tries the mixed path, then the full one.
struct StreamCopyCut {
    let timeline: Timeline
    let media: [String: URL]
    let facts: [String: MediaFacts]
    let threads: Int
    let control: RenderControl


    struct Plan {
        /// Copy the clips' own sound rather than mixing a soundtrack.
        var copyAudio: Bool
    }

    enum Decision {
        case copy(Plan)
        case reencode(String)
    }

    /// Decides from the timeline and probed facts alone; what needs the files (headers,
    /// keyframes) is checked while copying.
    func plan() -> Decision {
        let output = timeline.output
        if !timeline.overlays.isEmpty { return .reencode("overlays are drawn on the picture") }
        if let i = timeline.video.indices.first(where: { timeline.video[$0].transition != nil && $0 + 1 < timeline.video.count }) {
            return .reencode("video[\(i)] \"\(timeline.video[i].id)\" has a transition")
        }
        for (i, clip) in timeline.video.enumerated() {
            guard let video = facts[clip.asset]?.videoStream else { return .reencode("video[\(i)] has no probed video") }
            if let why = video.pictureMismatch(codec: output.format.videoCodec, output: output) {
                return .reencode("video[\(i)] \"\(clip.id)\" \(why)")
            }
        }
        let clipSound = timeline.video.allSatisfy { clip in
            clip.volume == 1 && facts[clip.asset]?.audioStream.map {
                $0.codecName == output.format.audioCodec && $0.sampleRate == SoundtrackMixer.sampleRate && $0.channels == 2
            } == true
        }
        return .copy(Plan(copyAudio: clipSound && timeline.audio.isEmpty && output.loudness == nil))
    }

    /// Writes the cut to `url` and returns what libav reads back, and the soundtrack's loudness when it was mixed.
    func render(_ plan: Plan, to url: URL) throws -> (MediaFacts, Double?) {
        let layout = timeline.layout
        let rate = OutputEncoders.frameRate(timeline.output.fps)
        let frameBase = AVRational(num: rate.den, den: rate.num)
        // The clips are checked one file at a time, and each is opened again when its packets
        // are copied: a cut holds one input open however many clips it has.
        try checkHeaders(copyAudio: plan.copyAudio)
        let file = try OutputFile(url)
        let first = try openClip(0, audio: plan.copyAudio)
        let videoOut = try file.addStream(copying: first.video)
        videoOut.pointee.time_base = frameBase
        var sound: PacketQueue
        var loudness: Double?
        var audioOut: UnsafeMutablePointer<AVStream>
        if plan.copyAudio {
            audioOut = try file.addStream(copying: first.audio!)
            audioOut.pointee.time_base = AVRational(num: 1, den: Int32(SoundtrackMixer.sampleRate))
            try file.writeHeader(faststart: timeline.output.format == .mp4)
            sound = PacketQueue(timeBase: audioOut.pointee.time_base)
        } else {
            let encoder = try OutputEncoders.audio(timeline.output, path: url.path, globalHeader: file.wantsGlobalHeader)
            audioOut = try file.addStream(for: encoder)
            try file.writeHeader(faststart: timeline.output.format == .mp4)
            let mixer = SoundtrackMixer(timeline: timeline, media: media, facts: facts, threads: threads, control: control)
            let queue = PacketQueue(timeBase: encoder.context.pointee.time_base)
            loudness = try mixer.encodedSoundtrack(with: encoder, progress: { control.progress(0.5 * $0) }) { try queue.append($0) }
            sound = queue
        }

        let packet = Packet()
        var lastVideoDTS = Int64.min
        // Copying is the rest of the work after the mix (half of it), or all of it.
        let copyStart = plan.copyAudio ? 0.0 : 0.5
        for (i, clip) in timeline.video.enumerated() {
            control.progress(copyStart + (1 - copyStart) * Double(i) / Double(timeline.video.count))
            let (input, video, audio) = try openClip(i, audio: plan.copyAudio)
            let label = "video[\(i)] \"\(clip.id)\""
            let videoBase = video.pointee.time_base
            let origin = InputFile.startTime(of: video)
            let start = origin + av_rescale_q(Int64((clip.inPoint * Double(rate.num) / Double(rate.den)).rounded()), frameBase, videoBase)
            let end = origin + av_rescale_q(Int64((clip.outPoint * Double(rate.num) / Double(rate.den)).rounded()), frameBase, videoBase)
            let half = av_rescale_q(1, AVRational(num: rate.den, den: rate.num * 2), videoBase)
            // Frames may be reordered (B-frames): then only the asset's own end is a clean out point.
            let reordered = video.pointee.codecpar.pointee.video_delay > 0
            if reordered, let length = facts[clip.asset]?.videoStream?.durationSeconds, clip.outPoint < length - layout.seconds(1) / 2 {
                throw FastPathMismatch(description: "\(label) has reordered frames, so its out point must be the clip's end")
            }
            if clip.inPoint > 0 { try VideoClipReader.wrap(label) { () throws(MediaError) in try input.seek(video, to: start) } }
            let videoOffset = av_rescale_q(Int64(layout.startFrames[i]), frameBase, videoOut.pointee.time_base)
            let audioStart = audio.map { av_rescale_q(start - origin, videoBase, $0.pointee.time_base) + ($0.pointee.start_time == reel_av_nopts_value() ? 0 : max(0, $0.pointee.start_time)) }
            let audioEnd = audio.map { av_rescale_q(end - origin, videoBase, $0.pointee.time_base) }
            let audioOffset = av_rescale_q(Int64(layout.startFrames[i]), frameBase, audioOut.pointee.time_base)
            var first = true
            while try VideoClipReader.wrap(label, { () throws(MediaError) in try input.readPacket(into: packet.pointer) }) {
                defer { av_packet_unref(packet.pointer) }
                try control.checkCancelled()
                let p = packet.pointer
                if p.pointee.stream_index == video.pointee.index {
                    let pts = p.pointee.pts == reel_av_nopts_value() ? p.pointee.dts : p.pointee.pts
                    if first {
                        first = false
                        guard (p.pointee.flags & AV_PKT_FLAG_KEY) != 0, abs(pts - start) <= half else {
                            throw FastPathMismatch(description: "\(label): in point \(clip.inPoint) s is not on a keyframe")
                        }
                    }
                    if pts >= end - half {
                        if reordered { continue }
                        break
                    }
                    if pts < start - half { continue }
                    av_packet_rescale_ts(p, videoBase, videoOut.pointee.time_base)
                    let shift = videoOffset - av_rescale_q(start, videoBase, videoOut.pointee.time_base)
                    p.pointee.pts += shift
                    p.pointee.dts = (p.pointee.dts == reel_av_nopts_value() ? p.pointee.pts : p.pointee.dts + shift)
                    if p.pointee.dts <= lastVideoDTS { p.pointee.dts = lastVideoDTS + 1 }
                    lastVideoDTS = p.pointee.dts
                    try sound.write(until: p.pointee.dts, in: videoOut.pointee.time_base, to: file, stream: audioOut)
                    try file.write(p, from: videoOut.pointee.time_base, to: videoOut)
                } else if let audio, let audioStart, let audioEnd, p.pointee.stream_index == audio.pointee.index {
                    let pts = p.pointee.pts
                    // Priming packets before the clip's start would overlap the clip before.
                    guard pts != reel_av_nopts_value(), pts >= audioStart, pts < audioEnd else { continue }
                    av_packet_rescale_ts(p, audio.pointee.time_base, audioOut.pointee.time_base)
                    let shift = audioOffset - av_rescale_q(audioStart, audio.pointee.time_base, audioOut.pointee.time_base)
                    p.pointee.pts += shift
                    p.pointee.dts = p.pointee.pts
                    p.pointee.stream_index = 0
                    try sound.append(p)
                }
            }
        }
        try sound.writeRemaining(to: file, stream: audioOut)
        let expected = layout.duration
        let frame = layout.seconds(1)
        try file.finish { written in
            let facts = try MediaProbe.probe(written)
            let seconds = facts.videoStream?.durationSeconds ?? facts.durationSeconds ?? 0
            if abs(seconds - expected) > frame * 1.01 {
                throw FastPathMismatch(description: String(format: "stream copy gave %.3f s of picture, the timeline is %.3f s", seconds, expected))
            }
        }
        control.progress(1, force: true)
        return (try MediaProbe.probe(url), loudness)
    }

    /// Clip `i`'s file, its video stream and (when `audio`) its sound stream.
    private func openClip(_ i: Int, audio: Bool) throws -> (input: InputFile, video: UnsafeMutablePointer<AVStream>, audio: UnsafeMutablePointer<AVStream>?) {
        let clip = timeline.video[i]
        return try VideoClipReader.wrap("video[\(i)] \"\(clip.id)\"") { () throws(MediaError) in
            let input = try InputFile(media[clip.asset]!)
            let video = try input.bestStream(AVMEDIA_TYPE_VIDEO)
            let sound = audio ? try input.bestStream(AVMEDIA_TYPE_AUDIO) : nil
            return (input, video, sound)
        }
    }

    /// What stream copy needs two streams to share: codec, shape and headers.
    private struct StreamShape: Equatable {
        var codec: AVCodecID
        var width, height, format, sampleRate, channels: Int32
        var headers: [UInt8]

        init(_ p: AVCodecParameters) {
            codec = p.codec_id
            width = p.width
            height = p.height
            format = p.format
            sampleRate = p.sample_rate
            channels = p.ch_layout.nb_channels
            headers = p.extradataBytes
        }
    }

    /// Stream copy joins only streams a single decoder can play through: same codec, shape and
    /// headers as the first clip's. Opens one clip's file at a time.
    private func checkHeaders(copyAudio: Bool) throws {
        var reference: (video: StreamShape, audio: StreamShape?)?
        for i in timeline.video.indices {
            let clip = try openClip(i, audio: copyAudio)
            let shapes = (video: StreamShape(clip.video.pointee.codecpar.pointee), audio: clip.audio.map { StreamShape($0.pointee.codecpar.pointee) })
            withExtendedLifetime(clip.input) {}
            guard let reference else {
                reference = shapes
                continue
            }
            for (kind, same) in [("video", shapes.video == reference.video), ("sound", shapes.audio == reference.audio)] where !same {
                throw FastPathMismatch(description: "video[\(i)] \"\(timeline.video[i].id)\": its \(kind) headers differ from the first clip's")
            }
        }
    }
}
