import CFFmpeg

/// Encoded packets of one stream held back so they can be interleaved by time with another
/// stream being written as it is produced (audio encoded up front, video copied or encoded after).
final class PacketQueue {
    private var packets: [Packet] = []
    private var next = 0
    let timeBase: AVRational

    init(timeBase: AVRational) { self.timeBase = timeBase }

    func append(_ packet: UnsafeMutablePointer<AVPacket>) throws(MediaError) {
        packets.append(try Packet(cloning: packet))
    }

    /// Takes `packet` itself (no new reference).
    func append(_ packet: Packet) { packets.append(packet) }

    /// Whether packets up to `limit` (in `limitBase`) are all here: the last one queued is at or past it.
    func reaches(_ limit: Int64, in limitBase: AVRational) -> Bool {
        guard let last = packets.last else { return false }
        return av_compare_ts(last.pointer.pointee.dts, timeBase, limit, limitBase) >= 0
    }

    /// Writes queued packets whose timestamps are at or before `limit` (in `limitBase`).
    func write(until limit: Int64, in limitBase: AVRational, to output: OutputFile, stream: UnsafeMutablePointer<AVStream>) throws(MediaError) {
        while next < packets.count {
            let packet = packets[next].pointer
            if av_compare_ts(packet.pointee.dts, timeBase, limit, limitBase) > 0 { return }
            try output.write(packet, from: timeBase, to: stream)
            next += 1
        }
    }

    /// Writes everything still queued.
    func writeRemaining(to output: OutputFile, stream: UnsafeMutablePointer<AVStream>) throws(MediaError) {
        while next < packets.count {
            try output.write(packets[next].pointer, from: timeBase, to: stream)
            next += 1
        }
    }
}
