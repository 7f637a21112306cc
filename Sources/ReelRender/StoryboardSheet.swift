import CFFmpeg
import Foundation

/// A contact sheet: pictures in a grid, each numbered in its corner, as one PNG. People look
/// at a storyboard rather than read it, so each scene's number sits on its picture.
public enum StoryboardSheet {
    /// Lays out `pictures` (all the same size) `columns` wide on a dark ground and writes a PNG
    /// to `url`, atomically. Numbers start at 1 and are drawn with libavfilter's `drawtext`.
    public static func write(_ pictures: [RGBImage], columns: Int = 4, to url: URL, fonts: FontCatalog = .standard) throws {
        guard let first = pictures.first else { throw MediaError(.invalidInput, path: url.path, message: "a storyboard needs at least one picture") }
        guard pictures.allSatisfy({ $0.width == first.width && $0.height == first.height }) else {
            throw MediaError(.invalidInput, path: url.path, message: "storyboard pictures must all be \(first.width)x\(first.height)")
        }
        let columns = max(1, min(columns, pictures.count))
        let rows = (pictures.count + columns - 1) / columns
        let graph = try FilterGraph(name: "storyboard graph", threads: 1)
        let source = try graph.videoSource(
            label: "storyboard pictures", width: first.width, height: first.height, format: AV_PIX_FMT_RGB24,
            timeBase: AVRational(num: 1, den: 1), sampleAspect: AVRational(num: 1, den: 1), frameRate: AVRational(num: 1, den: 1))
        let size = max(14, first.height / 7)
        var pad = source.pad
        if let font = fonts.path(for: "DejaVu Sans Bold") {
            pad = try graph.add("drawtext", [
                "fontfile": font, "text": "%{eif:n+1:d}", "fontsize": String(size), "fontcolor": "#ffffff",
                "box": "1", "boxcolor": "#000000b0", "boxborderw": String(size / 3),
                "x": String(size / 2), "y": String(size / 2),
            ], inputs: [pad])
        }
        let gap = max(4, first.width / 40)
        pad = try graph.add("tile", ["layout": "\(columns)x\(rows)", "padding": String(gap), "margin": String(gap), "color": "#1c1c1c"], inputs: [pad])
        pad = try graph.add("format", ["pix_fmts": "rgb24"], inputs: [pad])
        let sink = try graph.sink(pad, audio: false)
        try graph.configure()
        var sheet: RGBImage?
        let feed = PictureFeed(pictures)
        try graph.run(sink: sink, feeds: [(source, feed)], control: RenderControl()) { frame in
            sheet = RGBImage(frame: frame)
        }
        guard let sheet else { throw MediaError(.encode, path: url.path, message: "the storyboard graph made no picture") }
        try ImageIO.writePNG(sheet, to: url)
    }
}

/// Feeds still pictures as RGB frames, one per second of stream time.
final class PictureFeed: FrameFeed {
    private let pictures: [RGBImage]
    private var index = 0

    init(_ pictures: [RGBImage]) { self.pictures = pictures }

    func next(into frame: UnsafeMutablePointer<AVFrame>) throws(MediaError) -> Bool {
        guard index < pictures.count else { return false }
        let picture = pictures[index]
        frame.pointee.width = Int32(picture.width)
        frame.pointee.height = Int32(picture.height)
        frame.pointee.format = AV_PIX_FMT_RGB24.rawValue
        try check(av_frame_get_buffer(frame, 0), .encode, path: nil, "allocating a picture")
        let stride = Int(frame.pointee.linesize.0)
        let base = frame.pointee.data.0!
        picture.pixels.withUnsafeBufferPointer { pixels in
            for y in 0..<picture.height {
                (base + y * stride).update(from: pixels.baseAddress! + y * picture.width * 3, count: picture.width * 3)
            }
        }
        frame.pointee.pts = Int64(index)
        index += 1
        return true
    }
}

extension RGBImage {
    /// Copies an RGB24 frame's rows into a packed picture.
    init(frame: UnsafeMutablePointer<AVFrame>) {
        let width = Int(frame.pointee.width), height = Int(frame.pointee.height)
        let stride = Int(frame.pointee.linesize.0)
        let base = frame.pointee.data.0!
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        pixels.withUnsafeMutableBufferPointer { out in
            for y in 0..<height { (out.baseAddress! + y * width * 3).update(from: base + y * stride, count: width * 3) }
        }
        self.init(width: width, height: height, pixels: pixels)
    }
}
