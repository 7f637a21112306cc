import CFFmpeg
import Foundation
import ReelCore

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
        var options = Self.openOptions()
        let rc = avformat_open_input(&ctx, path, nil, &options)
        av_dict_free(&options)
        if rc < 0, let refused = Self.refusedFormat(path) {
            throw MediaError(.open, path: path, code: rc, message: "\(refused) is not a format reeld reads (it reads \(Self.formatNames))")
        }
        try check(rc, .open, path: path, "opening input")
        context = ctx
        try check(avformat_find_stream_info(ctx, nil), .probe, path: path, "reading stream info")
        if streamCount == 0 {
            throw MediaError(.probe, path: path, message: "no streams found")
        }
    }

    deinit { avformat_close_input(&context) }

    /// The demuxers reeld opens (libav's names): MP4/MOV/M4A, Matroska/WebM, WAV, MP3, AAC
    /// (ADTS), Ogg, FLAC, and single PNG, JPEG and WebP pictures (`image2` is what libav picks
    /// for a `.jpg` whose markers its content probe does not reach; it reads one file here, see
    /// `openOptions`). Not playlists (HLS, DASH) or `concat` lists, which open further files and
    /// URLs named inside them; not the hundreds of other formats libav knows, each more parser to expose.
    static let formats = [
        "mov", "mp4", "m4a", "matroska", "webm", "wav", "mp3", "aac", "ogg", "flac", "png_pipe", "jpeg_pipe", "webp_pipe", "image2",
    ]
    /// Only local files: no network protocol, and none of libav's file-combining ones
    /// (`concat:`, `subfile,`, `crypto:`) even in a name given to open.
    static let protocols = ["file"]

    static var formatNames: String { formats.joined(separator: ", ") }

    /// `avformat_open_input`'s options: the whitelists, which libav also applies to every file a
    /// demuxer opens on its own.
    private static func openOptions() -> OpaquePointer? {
        var options: OpaquePointer? = nil
        av_dict_set(&options, "format_whitelist", formats.joined(separator: ","), 0)
        av_dict_set(&options, "protocol_whitelist", protocols.joined(separator: ","), 0)
        // image2's own option: the name is one file, never a numbered sequence (`shot%03d.png`)
        // or a glob. Other demuxers leave it unused.
        av_dict_set(&options, "pattern_type", "none", 0)
        return options
    }

    /// The format libav detects in `path` when it is not one reeld reads (for the message when
    /// opening failed); nil when it is one, or when nothing is detected.
    private static func refusedFormat(_ path: String) -> String? {
        var io: UnsafeMutablePointer<AVIOContext>? = nil
        var options: OpaquePointer? = nil
        av_dict_set(&options, "protocol_whitelist", protocols.joined(separator: ","), 0)
        defer { av_dict_free(&options) }
        guard avio_open2(&io, path, AVIO_FLAG_READ, nil, &options) >= 0 else { return nil }
        defer { avio_closep(&io) }
        var format: UnsafePointer<AVInputFormat>? = nil
        guard av_probe_input_buffer2(io, &format, path, nil, 0, 0) >= 0, let format else { return nil }
        let name = String(cString: format.pointee.name)
        let names = name.split(separator: ",").map(String.init)
        return names.contains(where: formats.contains) ? nil : name
    }

    var format: UnsafeMutablePointer<AVFormatContext> { context! }

    var streamCount: Int { Int(format.pointee.nb_streams) }

    func stream(_ index: Int) -> UnsafeMutablePointer<AVStream> { format.pointee.streams[index]! }

    /// The stream libav would pick for this media type, or a `MediaError` naming the file.
    func bestStream(_ type: AVMediaType) throws(MediaError) -> UnsafeMutablePointer<AVStream> {
        let index = av_find_best_stream(format, type, -1, -1, nil, 0)
        let what = type == AVMEDIA_TYPE_VIDEO ? "video" : "audio"
        try check(index, .probe, path: path, "finding a \(what) stream")
        let found = stream(Int(index))
        if type == AVMEDIA_TYPE_VIDEO, let refusal = Self.oversized(found.pointee.codecpar.pointee) {
            throw MediaError(.invalidInput, path: path, message: refusal)
        }
        return found
    }

    /// Why a picture of these parameters is too big to decode (`MediaLimits.picturePixels`), if it is.
    static func oversized(_ parameters: AVCodecParameters) -> String? {
        let width = Int(parameters.width), height = Int(parameters.height)
        guard width * height > MediaLimits.picturePixels else { return nil }
        return "its picture is \(width)x\(height), more than the \(MediaLimits.picturePixels) pixels (4096x4096) reeld decodes"
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
