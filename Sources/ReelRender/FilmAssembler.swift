import CFFmpeg
import Foundation

/// The minimal render: joins clips end to end by stream copy and lays a voiceover (and an
/// optional music bed underneath it) as the film's only audio track.
///
/// Video is never re-encoded, so the clips must share codec parameters (codec, size, pixel
/// format, codec headers) — clips from `ClipSynthesizer` with the same options do; clips from
/// elsewhere must be normalised first. The clips' own audio is dropped.
public enum FilmAssembler {
    public struct Options: Sendable, Hashable {
        /// Gain on the voiceover.
        public var voiceGain: Float
        /// Gain on the music bed: well under the voice so narration stays clear.
        public var musicGain: Float
        /// Seconds of fade-out at the end of the music bed.
        public var musicFadeOutSeconds: Double

        public init(voiceGain: Float = 1, musicGain: Float = 0.3, musicFadeOutSeconds: Double = 1) {
            self.voiceGain = voiceGain
            self.musicGain = musicGain
            self.musicFadeOutSeconds = musicFadeOutSeconds
        }
    }

    /// Writes the film to `url` (via a temporary name in the same directory, renamed when
    /// complete) and returns what libav reads back from it. The audio track is exactly as long as
    /// the joined video: the voice is cut or padded with silence, the music looped is not — it is
    /// cut or padded too. Blocking; safe to call concurrently.
    @discardableResult
    public static func assemble(
        clips: [URL], voiceover: URL?, music: URL? = nil, options: Options = Options(), writingTo url: URL
    ) throws -> MediaFacts {
        guard !clips.isEmpty else {
            throw MediaError(.invalidInput, path: url.path, message: "a film needs at least one clip")
        }
        let inputs = try clips.map { try InputFile($0) }
        let videoStreams = try inputs.map { try $0.bestStream(AVMEDIA_TYPE_VIDEO) }
        try checkCompatible(videoStreams, inputs: inputs)

        var totalSeconds = 0.0
        for (input, stream) in zip(inputs, videoStreams) {
            guard let seconds = MediaProbe.seconds(stream.pointee.duration, stream.pointee.time_base)
                ?? MediaProbe.seconds(input.format.pointee.duration, reel_av_time_base_q())
            else { throw MediaError(.probe, path: input.path, message: "clip has no known duration") }
            totalSeconds += seconds
        }

        let soundtrack = try mix(voiceover: voiceover, music: music, seconds: totalSeconds, options: options)

        let output = try OutputFile(url)
        let videoOut = try output.addStream(copying: videoStreams[0])
        let audio = try AACTrackEncoder(sampleRate: 48_000, channels: 2, path: url.path, globalHeader: output.wantsGlobalHeader)
        let audioOut = try output.addStream(for: audio.encoder)
        try output.writeHeader(faststart: true)
        let queue = PacketQueue(timeBase: audio.timeBase)
        try audio.encode(soundtrack) { try queue.append($0) }

        // Offsets are kept in the output video stream's time base, which the muxer chose in writeHeader.
        let outBase = videoOut.pointee.time_base
        var end: Int64 = 0
        var lastDTS = Int64.min
        for (input, stream) in zip(inputs, videoStreams) {
            let inBase = stream.pointee.time_base
            let start = InputFile.startTime(of: stream)
            var offset = end - av_rescale_q(start, inBase, outBase)
            var first = true
            var clipEnd = end
            try input.forEachPacket { packet in
                guard packet.pointee.stream_index == stream.pointee.index else { return }
                av_packet_rescale_ts(packet, inBase, outBase)
                if packet.pointee.dts == reel_av_nopts_value() { packet.pointee.dts = packet.pointee.pts }
                if first, packet.pointee.dts + offset <= lastDTS {
                    // A clip that starts with reordered frames: shift it just enough to keep decode order increasing.
                    offset = lastDTS + 1 - packet.pointee.dts
                }
                first = false
                packet.pointee.pts += offset
                packet.pointee.dts += offset
                lastDTS = packet.pointee.dts
                clipEnd = max(clipEnd, packet.pointee.pts + packet.pointee.duration)
                try queue.write(until: packet.pointee.dts, in: outBase, to: output, stream: audioOut)
                try output.write(packet, from: outBase, to: videoOut)
            }
            end = clipEnd
        }
        try queue.writeRemaining(to: output, stream: audioOut)
        try output.finish()
        return try MediaProbe.probe(url)
    }

    /// Stream copy only works when every clip decodes with the first clip's parameters.
    static func checkCompatible(_ streams: [UnsafeMutablePointer<AVStream>], inputs: [InputFile]) throws {
        let reference = streams[0].pointee.codecpar.pointee
        let referenceHeaders = extradata(reference)
        for (stream, input) in zip(streams, inputs).dropFirst() {
            let p = stream.pointee.codecpar.pointee
            if p.codec_id != reference.codec_id || p.width != reference.width || p.height != reference.height || p.format != reference.format {
                throw MediaError(
                    .invalidInput, path: input.path,
                    message: "clip is \(String(cString: avcodec_get_name(p.codec_id))) \(p.width)x\(p.height), the first clip is "
                        + "\(String(cString: avcodec_get_name(reference.codec_id))) \(reference.width)x\(reference.height); normalise clips before joining")
            }
            if extradata(p) != referenceHeaders {
                throw MediaError(.invalidInput, path: input.path, message: "clip's codec headers differ from the first clip's; normalise clips before joining")
            }
        }
    }

    static func extradata(_ p: AVCodecParameters) -> [UInt8] {
        guard let data = p.extradata, p.extradata_size > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: Int(p.extradata_size)))
    }

    /// Voice over music at 48 kHz stereo, exactly `seconds` long.
    static func mix(voiceover: URL?, music: URL?, seconds: Double, options: Options) throws -> AudioSamples {
        let frames = Int((seconds * 48_000).rounded())
        var out = [Float](repeating: 0, count: frames * 2)
        if let music {
            let bed = try AudioFile.read(music, sampleRate: 48_000, channels: 2).samples
            let fadeFrames = max(1, Int(options.musicFadeOutSeconds * 48_000))
            for i in 0..<min(bed.count, out.count) {
                let fade = min(1, Float(frames - i / 2) / Float(fadeFrames))
                out[i] += bed[i] * options.musicGain * fade
            }
        }
        if let voiceover {
            let voice = try AudioFile.read(voiceover, sampleRate: 48_000, channels: 2).samples
            for i in 0..<min(voice.count, out.count) { out[i] += voice[i] * options.voiceGain }
        }
        for i in 0..<out.count { out[i] = min(1, max(-1, out[i])) }
        return AudioSamples(sampleRate: 48_000, channels: 2, samples: out)
    }
}
