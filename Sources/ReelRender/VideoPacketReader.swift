import CFFmpeg
import Foundation

/// The encoded pictures of a video as stored, without decoding: to see what a render copied.
public enum VideoPacketReader {
    /// One stored picture.
    public struct Packet: Sendable, Hashable {
        /// Presentation time in seconds.
        public var seconds: Double
        public var isKeyframe: Bool
        public var bytes: [UInt8]
    }

    /// Every packet of the best video stream, in file order.
    public static func packets(in url: URL) throws -> [Packet] {
        let input = try InputFile(url)
        let stream = try input.bestStream(AVMEDIA_TYPE_VIDEO)
        input.readOnly(stream)
        let base = stream.pointee.time_base
        let origin = InputFile.startTime(of: stream)
        var packets: [Packet] = []
        try input.forEachPacket { p in
            guard p.pointee.stream_index == stream.pointee.index else { return }
            let pts = p.pointee.pts == reel_av_nopts_value() ? p.pointee.dts : p.pointee.pts
            packets.append(Packet(
                seconds: Double(pts - origin) * av_q2d(base), isKeyframe: (p.pointee.flags & AV_PKT_FLAG_KEY) != 0,
                bytes: Array(UnsafeBufferPointer(start: p.pointee.data, count: Int(p.pointee.size)))))
        }
        return packets
    }
}
