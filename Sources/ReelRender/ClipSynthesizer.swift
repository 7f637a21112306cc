import CFFmpeg
import Foundation

/// Makes a short H.264 clip that moves from a start picture to an end picture: a slow push-in on
/// the start picture, a cross-dissolve through the middle half, and the end picture settling back
/// to full frame, so the first frame is the start picture and the last is the end picture.
///
/// Clips carry a silent AAC stereo 48 kHz track of the same length and no B-frames, so clips made
/// with the same options share codec parameters and join by stream copy.
public enum ClipSynthesizer {
    public struct Options: Sendable, Hashable {
        /// Output size; both must be even (yuv420p).
        public var width: Int
        public var height: Int
        public var framesPerSecond: Int
        public var seconds: Double
        /// How far the camera pushes in: 0.12 crops to 1/1.12 of the picture at the extreme.
        public var zoom: Double
        /// x264 constant rate factor (lower is better quality) and speed preset.
        public var crf: Int
        public var preset: String

        public init(
            width: Int = 640, height: Int = 360, framesPerSecond: Int = 24, seconds: Double = 5,
            zoom: Double = 0.12, crf: Int = 23, preset: String = "veryfast"
        ) {
            self.width = width
            self.height = height
            self.framesPerSecond = framesPerSecond
            self.seconds = seconds
            self.zoom = zoom
            self.crf = crf
            self.preset = preset
        }

        /// Whole frames in the clip.
        public var frameCount: Int { max(1, Int((seconds * Double(framesPerSecond)).rounded())) }
    }

    /// Writes an MP4 (H.264 yuv420p + silent AAC, faststart) to `url` and returns what libav reads back.
    /// With no `end`, the clip is a slow push-in and pan across `start`. Pictures of another aspect
    /// ratio are centre-cropped to fill the frame. Blocking; safe to call concurrently.
    @discardableResult
    public static func makeClip(from start: RGBImage, to end: RGBImage?, options: Options = Options(), writingTo url: URL) throws -> MediaFacts {
        let path = url.path
        guard options.width > 0, options.height > 0, options.width % 2 == 0, options.height % 2 == 0 else {
            throw MediaError(.invalidInput, path: path, message: "clip size \(options.width)x\(options.height) must be positive and even")
        }
        guard options.framesPerSecond > 0, options.seconds > 0, options.seconds.isFinite else {
            throw MediaError(.invalidInput, path: path, message: "clip needs a positive length and frame rate")
        }
        let width = options.width
        let height = options.height
        let fps = Int32(options.framesPerSecond)
        let output = try OutputFile(url)

        let video = try Encoder(
            codec: "libx264", path: path, globalHeader: output.wantsGlobalHeader,
            options: ["preset": options.preset, "crf": String(options.crf)]
        ) { ctx in
            ctx.pointee.width = Int32(width)
            ctx.pointee.height = Int32(height)
            ctx.pointee.pix_fmt = AV_PIX_FMT_YUV420P
            ctx.pointee.time_base = AVRational(num: 1, den: fps)
            ctx.pointee.framerate = AVRational(num: fps, den: 1)
            ctx.pointee.gop_size = fps * 2
            // No B-frames: decode order equals presentation order, which keeps stream-copy joins simple.
            ctx.pointee.max_b_frames = 0
        }
        let audio = try AACTrackEncoder(sampleRate: 48_000, channels: 2, path: path, globalHeader: output.wantsGlobalHeader)
        let videoStream = try output.addStream(for: video)
        let audioStream = try output.addStream(for: audio.encoder)
        try output.writeHeader(faststart: true)

        let frames = options.frameCount
        let queue = PacketQueue(timeBase: audio.timeBase)
        try audio.encode(AudioSamples(silenceSeconds: Double(frames) / Double(fps))) { try queue.append($0) }

        // Work at twice the output size so the slow zoom moves in half-pixel steps rather than jittering.
        let scaler = Scaler(path: path)
        let first = try scaler.aspectFilled(start, width: width * 2, height: height * 2)
        let last = try end.map { image throws(MediaError) in try scaler.aspectFilled(image, width: width * 2, height: height * 2) }
        let outFrame = try Frame.video(width: width, height: height, format: AV_PIX_FMT_YUV420P, path: path)
        let overlay = try Frame.video(width: width, height: height, format: AV_PIX_FMT_YUV420P, path: path)
        let timeBase = video.context.pointee.time_base

        let writeVideo: (UnsafeMutablePointer<AVPacket>) throws -> Void = { packet in
            if packet.pointee.duration == 0 { packet.pointee.duration = 1 }
            try queue.write(until: packet.pointee.dts, in: timeBase, to: output, stream: audioStream)
            try output.write(packet, from: timeBase, to: videoStream)
        }
        for index in 0..<frames {
            let t = frames > 1 ? Double(index) / Double(frames - 1) : 0
            let ease = smoothstep(t)
            try check(av_frame_make_writable(outFrame.pointer), .encode, path: path, "reusing a video frame")
            if let last {
                let mix = smoothstep((t - 0.25) / 0.5)
                let startView = view(of: first, zoom: 1 + options.zoom * ease, pan: (0.5 - 0.2 * ease, 0.5 + 0.1 * ease))
                let endView = view(of: last, zoom: 1 + options.zoom * (1 - ease), pan: (0.5 + 0.2 * (1 - ease), 0.5))
                if mix < 1 {
                    try scaler.scale(first, crop: startView, into: outFrame, width: width, height: height, format: AV_PIX_FMT_YUV420P)
                }
                if mix >= 1 {
                    try scaler.scale(last, crop: endView, into: outFrame, width: width, height: height, format: AV_PIX_FMT_YUV420P)
                } else if mix > 0 {
                    try scaler.scale(last, crop: endView, into: overlay, width: width, height: height, format: AV_PIX_FMT_YUV420P)
                    blend(overlay, into: outFrame, weight: Int((mix * 256).rounded()), width: width, height: height)
                }
            } else {
                let only = view(of: first, zoom: 1 + options.zoom * ease, pan: (0.5 + 0.2 * ease, 0.5 - 0.1 * ease))
                try scaler.scale(first, crop: only, into: outFrame, width: width, height: height, format: AV_PIX_FMT_YUV420P)
            }
            outFrame.pointer.pointee.pts = Int64(index)
            try video.encode(outFrame.pointer, writeVideo)
        }
        try video.encode(nil, writeVideo)
        try queue.writeRemaining(to: output, stream: audioStream)
        try output.finish()
        return try MediaProbe.probe(url)
    }

    static func smoothstep(_ x: Double) -> Double {
        let t = min(max(x, 0), 1)
        return t * t * (3 - 2 * t)
    }

    /// The crop of `image` seen at `zoom`, its position within the free margin given by `pan` (0...1 each way).
    static func view(of image: RGBImage, zoom: Double, pan: (x: Double, y: Double)) -> (x: Int, y: Int, width: Int, height: Int) {
        let w = min(image.width, max(2, Int((Double(image.width) / zoom).rounded())))
        let h = min(image.height, max(2, Int((Double(image.height) / zoom).rounded())))
        let x = Int((Double(image.width - w) * min(max(pan.x, 0), 1)).rounded())
        let y = Int((Double(image.height - h) * min(max(pan.y, 0), 1)).rounded())
        return (x, y, w, h)
    }

    /// out = out × (256 − weight)/256 + overlay × weight/256, on all three yuv420p planes.
    static func blend(_ overlay: Frame, into out: Frame, weight: Int, width: Int, height: Int) {
        let keep = 256 - weight
        for plane in 0..<3 {
            let planeWidth = plane == 0 ? width : width / 2
            let planeHeight = plane == 0 ? height : height / 2
            let source = overlay.data[plane]!
            let destination = out.data[plane]!
            let sourceStride = Int(overlay.linesize[plane])
            let destinationStride = Int(out.linesize[plane])
            for y in 0..<planeHeight {
                let s = UnsafeBufferPointer(start: source + y * sourceStride, count: planeWidth)
                let d = UnsafeMutableBufferPointer(start: destination + y * destinationStride, count: planeWidth)
                for x in 0..<planeWidth {
                    d[x] = UInt8(truncatingIfNeeded: (Int(d[x]) &* keep &+ Int(s[x]) &* weight &+ 128) >> 8)
                }
            }
        }
    }
}
