import CFFmpeg

/// An owned `AVPacket`.
final class Packet {
    let pointer: UnsafeMutablePointer<AVPacket>
    init() { pointer = av_packet_alloc() }
    /// Takes a new reference to `other`'s data (no copy of the bytes).
    init(cloning other: UnsafeMutablePointer<AVPacket>) throws(MediaError) {
        guard let p = av_packet_clone(other) else { throw MediaError(.encode, path: nil, message: "out of memory cloning a packet") }
        pointer = p
    }
    deinit {
        var p: UnsafeMutablePointer<AVPacket>? = pointer
        av_packet_free(&p)
    }
}
