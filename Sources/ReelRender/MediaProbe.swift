import CFFmpeg
import Foundation

/// Reads what a media file holds without decoding it all.
public enum MediaProbe {
    /// Opens `url` with libav and describes its container and streams.
    ///
    /// Safe to call from any thread; blocking. Throws `MediaError` for a missing, unreadable or
    /// corrupt file, never crashes on one.
    public static func probe(_ url: URL) throws -> MediaFacts {
        let input = try InputFile(url)
        let format = input.format
        let formatName = format.pointee.iformat.map { String(cString: $0.pointee.name) } ?? "unknown"
        var streams: [StreamFacts] = []
        for index in 0..<input.streamCount {
            let stream = input.stream(index)
            let parameters = stream.pointee.codecpar.pointee
            let codecName = String(cString: avcodec_get_name(parameters.codec_id))
            let duration = seconds(stream.pointee.duration, stream.pointee.time_base)
            switch parameters.codec_type {
            case AVMEDIA_TYPE_VIDEO:
                let rate = stream.pointee.avg_frame_rate.num > 0 ? stream.pointee.avg_frame_rate : stream.pointee.r_frame_rate
                streams.append(StreamFacts(
                    index: index, type: .video, codecName: codecName,
                    width: Int(parameters.width), height: Int(parameters.height),
                    framesPerSecond: rate.num > 0 && rate.den > 0 ? av_q2d(rate) : nil,
                    pixelFormat: av_get_pix_fmt_name(AVPixelFormat(parameters.format)).map { String(cString: $0) },
                    durationSeconds: duration))
            case AVMEDIA_TYPE_AUDIO:
                streams.append(StreamFacts(
                    index: index, type: .audio, codecName: codecName,
                    sampleRate: Int(parameters.sample_rate), channels: Int(parameters.ch_layout.nb_channels),
                    durationSeconds: duration))
            default:
                streams.append(StreamFacts(index: index, type: .other, codecName: codecName, durationSeconds: duration))
            }
        }
        if !streams.contains(where: { $0.type != .other && $0.codecName != "none" }) {
            throw MediaError(.probe, path: url.path, message: "no audio or video stream libav can read")
        }
        let duration = format.pointee.duration == reel_av_nopts_value() || format.pointee.duration <= 0
            ? nil : Double(format.pointee.duration) / Double(AV_TIME_BASE)
        return MediaFacts(formatName: formatName, durationSeconds: duration, streams: streams)
    }

    static func seconds(_ value: Int64, _ timeBase: AVRational) -> Double? {
        guard value != reel_av_nopts_value(), value > 0, timeBase.den != 0 else { return nil }
        return Double(value) * av_q2d(timeBase)
    }
}
