import CFFmpeg

/// Encodes `AudioSamples` to AAC (libav's native encoder) in 1024-sample frames.
final class AACTrackEncoder {
    let encoder: Encoder
    let channels: Int
    let sampleRate: Int

    init(sampleRate: Int, channels: Int, path: String?, globalHeader: Bool) throws(MediaError) {
        self.channels = channels
        self.sampleRate = sampleRate
        encoder = try Encoder(codec: "aac", path: path, globalHeader: globalHeader) { ctx in
            ctx.pointee.sample_fmt = AV_SAMPLE_FMT_FLTP
            ctx.pointee.sample_rate = Int32(sampleRate)
            av_channel_layout_default(&ctx.pointee.ch_layout, Int32(channels))
            ctx.pointee.bit_rate = channels == 1 ? 96_000 : 160_000
            ctx.pointee.time_base = AVRational(num: 1, den: Int32(sampleRate))
        }
    }

    var timeBase: AVRational { encoder.context.pointee.time_base }

    /// Encodes all of `audio` (which must match the encoder's rate and channels), then flushes.
    func encode(_ audio: AudioSamples, _ body: (UnsafeMutablePointer<AVPacket>) throws -> Void) throws {
        precondition(audio.sampleRate == sampleRate && audio.channels == channels)
        let frameSize = Int(encoder.context.pointee.frame_size > 0 ? encoder.context.pointee.frame_size : 1024)
        let frame = Frame()
        let f = frame.pointer
        f.pointee.format = AV_SAMPLE_FMT_FLTP.rawValue
        f.pointee.sample_rate = Int32(sampleRate)
        f.pointee.nb_samples = Int32(frameSize)
        av_channel_layout_default(&f.pointee.ch_layout, Int32(channels))
        try check(av_frame_get_buffer(f, 0), .encode, path: encoder.path, "allocating an audio frame")
        let total = audio.frameCount
        var start = 0
        try audio.samples.withUnsafeBufferPointer { source in
            while start < total {
                let count = min(frameSize, total - start)
                try check(av_frame_make_writable(f), .encode, path: encoder.path, "reusing an audio frame")
                f.pointee.nb_samples = Int32(count)
                f.pointee.pts = Int64(start)
                for c in 0..<channels {
                    let plane = UnsafeMutableRawPointer(f.pointee.extended_data[c]!).assumingMemoryBound(to: Float.self)
                    var s = start * channels + c
                    for i in 0..<count {
                        plane[i] = source[s]
                        s += channels
                    }
                }
                try encoder.encode(f, body)
                start += count
            }
        }
        try encoder.encode(nil, body)
    }
}
