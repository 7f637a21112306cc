import CFFmpeg
import Foundation

/// Quiets libav's own stderr chatter (x264 banners, probe warnings): failures reach callers
/// as `MediaError`s instead. Set once per process; a global `let` is initialised exactly once.
let libavLogLevelSet: Void = av_log_set_level(AV_LOG_ERROR)

/// An open demuxer for one file. Not `Sendable`: each call opens its own.
final class InputFile {
    let path: String
    private(set) var context: UnsafeMutablePointer<AVFormatContext>?

    init(_ url: URL) throws(MediaError) {
        _ = libavLogLevelSet
        path = url.path
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw MediaError(.open, path: path, message: "no such readable file")
        }
        var ctx: UnsafeMutablePointer<AVFormatContext>? = nil
        try check(avformat_open_input(&ctx, path, nil, nil), .open, path: path, "opening input")
        context = ctx
        try check(avformat_find_stream_info(ctx, nil), .probe, path: path, "reading stream info")
        if streamCount == 0 {
            throw MediaError(.probe, path: path, message: "no streams found")
        }
    }

    deinit { avformat_close_input(&context) }

    var format: UnsafeMutablePointer<AVFormatContext> { context! }

    var streamCount: Int { Int(format.pointee.nb_streams) }

    func stream(_ index: Int) -> UnsafeMutablePointer<AVStream> { format.pointee.streams[index]! }

    /// The stream libav would pick for this media type, or a `MediaError` naming the file.
    func bestStream(_ type: AVMediaType) throws(MediaError) -> UnsafeMutablePointer<AVStream> {
        let index = av_find_best_stream(format, type, -1, -1, nil, 0)
        let what = type == AVMEDIA_TYPE_VIDEO ? "video" : "audio"
        try check(index, .probe, path: path, "finding a \(what) stream")
        return stream(Int(index))
    }

    /// Has the demuxer drop every other stream's packets: reading then yields `stream`'s alone.
    func readOnly(_ stream: UnsafeMutablePointer<AVStream>) {
        for index in 0..<streamCount where index != Int(stream.pointee.index) { self.stream(index).pointee.discard = AVDISCARD_ALL }
    }

    /// `stream`'s first timestamp, in its time base; 0 when the file does not say.
    static func startTime(of stream: UnsafeMutablePointer<AVStream>) -> Int64 {
        stream.pointee.start_time == reel_av_nopts_value() ? 0 : stream.pointee.start_time
    }

    /// Reads packets in file order until the end, handing each to `body`.
    func forEachPacket(_ body: (UnsafeMutablePointer<AVPacket>) throws -> Void) throws {
        let packet = Packet()
        while true {
            let rc = av_read_frame(format, packet.pointer)
            if rc == reel_averror_eof() { return }
            try check(rc, .decode, path: path, "reading a packet")
            defer { av_packet_unref(packet.pointer) }
            try body(packet.pointer)
        }
    }

    /// Reads the next packet of the file into `packet` (which must be unreferenced); false at the end.
    func readPacket(into packet: UnsafeMutablePointer<AVPacket>) throws(MediaError) -> Bool {
        let rc = av_read_frame(format, packet)
        if rc == reel_averror_eof() { return false }
        try check(rc, .decode, path: path, "reading a packet")
        return true
    }

    /// Seeks `stream` to the last keyframe at or before `timestamp` (in the stream's time base).
    func seek(_ stream: UnsafeMutablePointer<AVStream>, to timestamp: Int64) throws(MediaError) {
        try check(av_seek_frame(format, stream.pointee.index, timestamp, AVSEEK_FLAG_BACKWARD), .decode, path: path, "seeking")
    }

    /// Decodes one stream to the end, handing every decoded frame to `body`.
    func decodeStream(_ stream: UnsafeMutablePointer<AVStream>, _ body: (UnsafeMutablePointer<AVFrame>) throws -> Void) throws {
        let decoder = try Decoder(stream: stream, path: path)
        let index = stream.pointee.index
        try forEachPacket { packet in
            if packet.pointee.stream_index == index { try decoder.decode(packet, body) }
        }
        try decoder.decode(nil, body)
    }
}
