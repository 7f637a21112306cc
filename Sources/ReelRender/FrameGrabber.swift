import CFFmpeg
import Foundation

/// Pictures of a video at given times, found by seeking to the keyframe before each time and
/// decoding forward: thumbnails, storyboards, and tests that look at what was rendered.
public enum FrameGrabber {
    /// The frame showing at each of `times` (seconds; the first frame whose time is within half
    /// a frame of it, or the last frame for times past the end), as RGB scaled to `width`×`height`
    /// when given (either alone keeps the aspect ratio).
    public static func images(of url: URL, at times: [Double], width: Int? = nil, height: Int? = nil) throws -> [RGBImage] {
        let input = try InputFile(url)
        let stream = try input.bestStream(AVMEDIA_TYPE_VIDEO)
        input.readOnly(stream)
        let decoder = try Decoder(stream: stream, path: input.path)
        let scaler = Scaler(path: input.path)
        let timeBase = stream.pointee.time_base
        let rate = VideoClipReader.frameRate(of: stream)
        let half = 0.5 * Double(rate.den) / Double(rate.num)
        let origin = InputFile.startTime(of: stream)
        let packet = Packet()
        var results: [RGBImage] = []
        for time in times {
            try input.seek(stream, to: origin + Int64((max(0, time) / av_q2d(timeBase)).rounded()))
            decoder.flush()
            var found: RGBImage?
            // The latest frame decoded, in case the time is past the last one.
            let last = Frame()
            let take: (UnsafeMutablePointer<AVFrame>) throws -> Void = { frame in
                guard found == nil else { return }
                let pts = frame.pointee.best_effort_timestamp == reel_av_nopts_value() ? frame.pointee.pts : frame.pointee.best_effort_timestamp
                let seconds = Double(pts - origin) * av_q2d(timeBase)
                let size = ImageIO.fittedSize(Int(frame.pointee.width), Int(frame.pointee.height), width, height)
                if seconds >= time - half {
                    found = try scaler.rgbImage(from: frame, width: size.width, height: size.height)
                } else {
                    av_frame_unref(last.pointer)
                    av_frame_ref(last.pointer, frame)
                }
            }
            while found == nil, try input.readPacket(into: packet.pointer) {
                defer { av_packet_unref(packet.pointer) }
                if packet.pointer.pointee.stream_index == stream.pointee.index { try decoder.decode(packet.pointer, take) }
            }
            if found == nil { try decoder.decode(nil, take) }
            if found == nil, last.pointer.pointee.width > 0 {
                let size = ImageIO.fittedSize(Int(last.pointer.pointee.width), Int(last.pointer.pointee.height), width, height)
                found = try withExtendedLifetime(last) { try scaler.rgbImage(from: last.pointer, width: size.width, height: size.height) }
            }
            guard let image = found else {
                throw MediaError(.decode, path: input.path, message: "no picture at \(time) s")
            }
            results.append(image)
        }
        return results
    }
}
