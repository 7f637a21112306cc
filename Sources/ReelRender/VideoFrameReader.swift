import CFFmpeg
import Foundation

/// Decodes the pictures of a video, for thumbnails and for checking what was rendered.
public enum VideoFrameReader {
    /// Decodes every picture of the best video stream in presentation order and hands each to
    /// `body` as RGB (scaled to `width`×`height` when given) with its time in seconds.
    public static func forEachFrame(
        in url: URL, width: Int? = nil, height: Int? = nil,
        _ body: (_ seconds: Double, _ image: RGBImage) throws -> Void
    ) throws {
        let input = try InputFile(url)
        let stream = try input.bestStream(AVMEDIA_TYPE_VIDEO)
        let scaler = Scaler(path: input.path)
        let timeBase = stream.pointee.time_base
        try input.decodeStream(stream) { frame in
            let size = ImageIO.fittedSize(Int(frame.pointee.width), Int(frame.pointee.height), width, height)
            let image = try scaler.rgbImage(from: frame, width: size.width, height: size.height)
            let pts = frame.pointee.best_effort_timestamp
            try body(pts == reel_av_nopts_value() ? 0 : Double(pts) * av_q2d(timeBase), image)
        }
    }
}
