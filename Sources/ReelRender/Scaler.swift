import CFFmpeg

/// A reusable swscale context: converts and resizes pictures between pixel formats.
final class Scaler {
    private var context: OpaquePointer?
    let path: String?

    init(path: String?) { self.path = path }

    deinit { sws_freeContext(context) }

    /// Scales `source` planes (of `sourceWidth`×`sourceHeight` in `sourceFormat`) onto `destination` planes.
    func scale(
        source: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>, sourceStrides: UnsafePointer<Int32>,
        sourceWidth: Int, sourceHeight: Int, sourceFormat: AVPixelFormat,
        destination: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>, destinationStrides: UnsafePointer<Int32>,
        width: Int, height: Int, format: AVPixelFormat
    ) throws(MediaError) {
        context = sws_getCachedContext(
            context, Int32(sourceWidth), Int32(sourceHeight), sourceFormat,
            Int32(width), Int32(height), format, SWS_BILINEAR, nil, nil, nil)
        guard let context else {
            throw MediaError(.scale, path: path, message: "cannot convert \(sourceWidth)x\(sourceHeight) to \(width)x\(height)")
        }
        let rows = reel_sws_scale(context, source, sourceStrides, 0, Int32(sourceHeight), destination, destinationStrides)
        if rows <= 0 { throw MediaError(.scale, path: path, message: "swscale produced no rows") }
    }

    /// Scales a region of an RGB image (`crop`, in pixels) onto a frame's planes.
    func scale(
        _ image: RGBImage, crop: (x: Int, y: Int, width: Int, height: Int)? = nil,
        into frame: Frame, width: Int, height: Int, format: AVPixelFormat
    ) throws(MediaError) {
        let region = crop ?? (0, 0, image.width, image.height)
        try image.pixels.withUnsafeBufferPointer { (buffer: UnsafeBufferPointer<UInt8>) throws(MediaError) in
            let origin = UnsafeMutablePointer(mutating: buffer.baseAddress!) + (region.y * image.width + region.x) * 3
            var planes: [UnsafeMutablePointer<UInt8>?] = [origin, nil, nil, nil]
            var strides: [Int32] = [Int32(image.width * 3), 0, 0, 0]
            try scale(
                source: &planes, sourceStrides: &strides, sourceWidth: region.width, sourceHeight: region.height,
                sourceFormat: AV_PIX_FMT_RGB24, destination: frame.data, destinationStrides: frame.linesize,
                width: width, height: height, format: format)
        }
    }

    /// Converts a decoded frame into an RGB image of the given size.
    func rgbImage(from frame: UnsafeMutablePointer<AVFrame>, width: Int, height: Int) throws(MediaError) -> RGBImage {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        try pixels.withUnsafeMutableBufferPointer { (buffer: inout UnsafeMutableBufferPointer<UInt8>) throws(MediaError) in
            var planes: [UnsafeMutablePointer<UInt8>?] = [buffer.baseAddress, nil, nil, nil]
            var strides: [Int32] = [Int32(width * 3), 0, 0, 0]
            try scale(
                source: reel_frame_data(frame), sourceStrides: reel_frame_linesize(frame),
                sourceWidth: Int(frame.pointee.width), sourceHeight: Int(frame.pointee.height),
                sourceFormat: AVPixelFormat(frame.pointee.format),
                destination: &planes, destinationStrides: &strides, width: width, height: height, format: AV_PIX_FMT_RGB24)
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }
}

extension Scaler {
    /// Crops `image` to the largest centred region with the aspect ratio of `width`×`height` and scales it to that size.
    func aspectFilled(_ image: RGBImage, width: Int, height: Int) throws(MediaError) -> RGBImage {
        let target = Double(width) / Double(height)
        var cropWidth = image.width
        var cropHeight = image.height
        if Double(image.width) / Double(image.height) > target {
            cropWidth = max(1, Int((Double(image.height) * target).rounded()))
        } else {
            cropHeight = max(1, Int((Double(image.width) / target).rounded()))
        }
        let crop = ((image.width - cropWidth) / 2, (image.height - cropHeight) / 2, cropWidth, cropHeight)
        let frame = try Frame.video(width: width, height: height, format: AV_PIX_FMT_RGB24, path: path)
        try scale(image, crop: crop, into: frame, width: width, height: height, format: AV_PIX_FMT_RGB24)
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        let stride = Int(frame.linesize[0])
        let base = frame.data[0]!
        pixels.withUnsafeMutableBufferPointer { out in
            for y in 0..<height {
                (out.baseAddress! + y * width * 3).update(from: base + y * stride, count: width * 3)
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }
}
