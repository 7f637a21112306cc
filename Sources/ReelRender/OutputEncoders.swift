import CFFmpeg
import ReelCore

/// The encoders a timeline's output asks for: libx264 + AAC for MP4, libvpx-vp9 + libopus for WebM.
enum OutputEncoders {
    /// The output frame rate as a fraction (29.97 → 30000/1001).
    static func frameRate(_ fps: Double) -> AVRational {
        let rate = av_d2q(fps, 1_001_000)
        return rate.num > 0 && rate.den > 0 ? rate : AVRational(num: 30, den: 1)
    }

    /// - Parameters:
    ///   - threads: encoder threads (the render's budget).
    ///   - stitchable: x264 headers that do not depend on the content, so files encoded with the
    ///     same settings share them and can be joined by stream copy (normalised inputs).
    static func video(
        _ output: TimelineOutput, width: Int? = nil, height: Int? = nil, quality: Int? = nil, threads: Int, path: String?,
        globalHeader: Bool, stitchable: Bool = false, keyframeSeconds: Double = 2, bFrames: Int? = nil
    ) throws(MediaError) -> Encoder {
        let rate = frameRate(output.fps)
        let width = width ?? output.width
        let height = height ?? output.height
        let gop = Int32(max(1, (output.fps * keyframeSeconds).rounded()))
        let configure: (UnsafeMutablePointer<AVCodecContext>) -> Void = { ctx in
            ctx.pointee.width = Int32(width)
            ctx.pointee.height = Int32(height)
            ctx.pointee.pix_fmt = AV_PIX_FMT_YUV420P
            ctx.pointee.time_base = AVRational(num: rate.den, den: rate.num)
            ctx.pointee.framerate = rate
            ctx.pointee.sample_aspect_ratio = AVRational(num: 1, den: 1)
            ctx.pointee.gop_size = gop
            ctx.pointee.thread_count = Int32(max(1, threads))
            if let bFrames { ctx.pointee.max_b_frames = Int32(bFrames) }
        }
        switch output.format {
        case .mp4:
            var options = ["preset": output.preset, "crf": String(quality ?? output.effectiveQuality)]
            if stitchable { options["x264-params"] = "stitchable=1" }
            return try Encoder(codec: "libx264", path: path, globalHeader: globalHeader, options: options, configure: configure)
        case .webm:
            let (deadline, cpuUsed) = vp9Speed(output.preset)
            let columns = width >= 1920 ? 3 : width >= 960 ? 2 : width >= 480 ? 1 : 0
            return try Encoder(
                codec: "libvpx-vp9", path: path, globalHeader: globalHeader,
                options: [
                    "crf": String(quality ?? output.effectiveQuality), "b": "0", "deadline": deadline, "cpu-used": String(cpuUsed),
                    "row-mt": "1", "tile-columns": String(columns),
                ],
                configure: configure)
        }
    }

    /// x264 presets mapped onto libvpx's deadline and cpu-used speed levels.
    static func vp9Speed(_ preset: String) -> (String, Int) {
        switch preset {
        case "ultrafast", "superfast": ("realtime", 8)
        case "veryfast", "faster": ("good", 5)
        case "fast": ("good", 4)
        case "medium": ("good", 3)
        case "slow": ("good", 2)
        default: ("good", 1)
        }
    }

    static func audio(_ output: TimelineOutput, path: String?, globalHeader: Bool) throws(MediaError) -> Encoder {
        let bitrate = output.effectiveAudioBitrate
        switch output.format {
        case .mp4:
            return try Encoder(codec: "aac", path: path, globalHeader: globalHeader) { ctx in
                ctx.pointee.sample_fmt = AV_SAMPLE_FMT_FLTP
                ctx.pointee.sample_rate = Int32(SoundtrackMixer.sampleRate)
                av_channel_layout_default(&ctx.pointee.ch_layout, 2)
                ctx.pointee.bit_rate = Int64(bitrate)
                ctx.pointee.time_base = AVRational(num: 1, den: Int32(SoundtrackMixer.sampleRate))
            }
        case .webm:
            return try Encoder(codec: "libopus", path: path, globalHeader: globalHeader) { ctx in
                ctx.pointee.sample_fmt = AV_SAMPLE_FMT_FLT
                ctx.pointee.sample_rate = Int32(SoundtrackMixer.sampleRate)
                av_channel_layout_default(&ctx.pointee.ch_layout, 2)
                ctx.pointee.bit_rate = Int64(bitrate)
                ctx.pointee.time_base = AVRational(num: 1, den: Int32(SoundtrackMixer.sampleRate))
            }
        }
    }
}
