import CFFmpeg
import Foundation

/// Reads and writes still images with libav's decoders and encoders.
public enum ImageIO {
    /// Decodes the first picture of any image (or video) libav reads, scaled with swscale to
    /// `width`×`height` when given (either alone keeps the aspect ratio).
    public static func read(_ url: URL, width: Int? = nil, height: Int? = nil) throws -> RGBImage {
        let input = try InputFile(url)
        let stream = try input.bestStream(AVMEDIA_TYPE_VIDEO)
        let scaler = Scaler(path: input.path)
        var image: RGBImage?
        let decoder = try Decoder(stream: stream, path: input.path)
        let take: (UnsafeMutablePointer<AVFrame>) throws -> Void = { frame in
            guard image == nil else { return }
            let size = fittedSize(Int(frame.pointee.width), Int(frame.pointee.height), width, height)
            image = try scaler.rgbImage(from: frame, width: size.width, height: size.height)
        }
        try input.forEachPacket { packet in
            if image == nil && packet.pointee.stream_index == stream.pointee.index { try decoder.decode(packet, take) }
        }
        if image == nil { try decoder.decode(nil, take) }
        guard let image else { throw MediaError(.decode, path: input.path, message: "no picture decoded") }
        return image
    }

    /// Writes `image` as a PNG, atomically.
    public static func writePNG(_ image: RGBImage, to url: URL) throws {
        try write(image, to: url, codec: "png", pixelFormat: AV_PIX_FMT_RGB24) { _ in }
    }

    /// Writes `image` as a baseline JPEG, atomically. `quality` is libav's qscale: 2 (best) to 31.
    public static func writeJPEG(_ image: RGBImage, to url: URL, quality: Int = 4) throws {
        let q = Int32(min(max(quality, 2), 31))
        try write(image, to: url, codec: "mjpeg", pixelFormat: AV_PIX_FMT_YUVJ420P) { ctx in
            ctx.pointee.color_range = AVCOL_RANGE_JPEG
            ctx.pointee.flags |= AV_CODEC_FLAG_QSCALE
            ctx.pointee.global_quality = FF_QP2LAMBDA * q
        }
    }

    private static func write(
        _ image: RGBImage, to url: URL, codec: String, pixelFormat: AVPixelFormat,
        configure: (UnsafeMutablePointer<AVCodecContext>) -> Void
    ) throws {
        let encoder = try Encoder(codec: codec, path: url.path, globalHeader: false) { ctx in
            ctx.pointee.width = Int32(image.width)
            ctx.pointee.height = Int32(image.height)
            ctx.pointee.pix_fmt = pixelFormat
            ctx.pointee.time_base = AVRational(num: 1, den: 25)
            configure(ctx)
        }
        let frame = try Frame.video(width: image.width, height: image.height, format: pixelFormat, path: url.path)
        try Scaler(path: url.path).scale(image, into: frame, width: image.width, height: image.height, format: pixelFormat)
        frame.pointer.pointee.pts = 0
        frame.pointer.pointee.quality = encoder.context.pointee.global_quality
        var bytes = Data()
        let collect: (UnsafeMutablePointer<AVPacket>) throws -> Void = { packet in
            bytes.append(packet.pointee.data, count: Int(packet.pointee.size))
        }
        try encoder.encode(frame.pointer, collect)
        try encoder.encode(nil, collect)
        do {
            try bytes.write(to: url, options: .atomic)
        } catch {
            throw MediaError(.write, path: url.path, message: "\(error)")
        }
    }

    /// The size to scale to: both given, one given (keep aspect, even), or the source's own.
    static func fittedSize(_ sourceWidth: Int, _ sourceHeight: Int, _ width: Int?, _ height: Int?) -> (width: Int, height: Int) {
        switch (width, height) {
        case let (w?, h?): return (w, h)
        case let (w?, nil): return (w, max(1, Int((Double(w) * Double(sourceHeight) / Double(sourceWidth)).rounded())))
        case let (nil, h?): return (max(1, Int((Double(h) * Double(sourceWidth) / Double(sourceHeight)).rounded())), h)
        case (nil, nil): return (sourceWidth, sourceHeight)
        }
    }
}
