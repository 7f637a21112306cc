import CFFmpeg
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A muxer that writes to a hidden temporary name beside the destination and renames it into
/// place on `finish()`, so the final path never holds a half-written file. Dropping an
/// unfinished `OutputFile` removes the temporary file.
final class OutputFile {
    let url: URL
    let temporaryPath: String
    private var context: UnsafeMutablePointer<AVFormatContext>?
    private var finished = false

    init(_ url: URL) throws(MediaError) {
        _ = libavLogLevelSet
        self.url = url
        let directory = url.deletingLastPathComponent()
        // Keep the extension: libav and later readers recognise the file by it.
        let ext = url.pathExtension.isEmpty ? "" : ".\(url.pathExtension)"
        temporaryPath = directory.appendingPathComponent(".\(url.lastPathComponent).partial-\(UUID().uuidString)\(ext)").path
        guard let format = av_guess_format(nil, url.path, nil) else {
            throw MediaError(.mux, path: url.path, message: "no muxer for the extension .\(url.pathExtension)")
        }
        var ctx: UnsafeMutablePointer<AVFormatContext>? = nil
        // The context's url is the temporary path: faststart reopens it by that name.
        try check(avformat_alloc_output_context2(&ctx, format, nil, temporaryPath), .mux, path: url.path, "allocating the muxer")
        context = ctx
        try check(avio_open(&ctx!.pointee.pb, temporaryPath, AVIO_FLAG_WRITE), .write, path: temporaryPath, "creating the file")
    }

    deinit {
        if let ctx = context {
            if ctx.pointee.pb != nil { avio_closep(&ctx.pointee.pb) }
            avformat_free_context(ctx)
        }
        if !finished { unlink(temporaryPath) }
    }

    var format: UnsafeMutablePointer<AVFormatContext> { context! }

    /// Whether encoders for this container must put codec headers in extradata.
    var wantsGlobalHeader: Bool { (format.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER) != 0 }

    /// Adds a stream described by an opened encoder.
    func addStream(for encoder: Encoder) throws(MediaError) -> UnsafeMutablePointer<AVStream> {
        guard let stream = avformat_new_stream(format, nil) else {
            throw MediaError(.mux, path: url.path, message: "out of memory adding a stream")
        }
        try check(avcodec_parameters_from_context(stream.pointee.codecpar, encoder.context), .mux, path: url.path, "describing a stream")
        stream.pointee.time_base = encoder.context.pointee.time_base
        if encoder.context.pointee.codec_type == AVMEDIA_TYPE_VIDEO {
            stream.pointee.avg_frame_rate = encoder.context.pointee.framerate
        }
        return stream
    }

    /// Adds a stream whose packets are copied from `source` unchanged.
    func addStream(copying source: UnsafeMutablePointer<AVStream>) throws(MediaError) -> UnsafeMutablePointer<AVStream> {
        guard let stream = avformat_new_stream(format, nil) else {
            throw MediaError(.mux, path: url.path, message: "out of memory adding a stream")
        }
        try check(avcodec_parameters_copy(stream.pointee.codecpar, source.pointee.codecpar), .mux, path: url.path, "copying stream parameters")
        stream.pointee.codecpar.pointee.codec_tag = 0
        stream.pointee.time_base = source.pointee.time_base
        stream.pointee.avg_frame_rate = source.pointee.avg_frame_rate
        stream.pointee.r_frame_rate = source.pointee.r_frame_rate
        return stream
    }

    /// Writes the header. `faststart` moves the MP4 index to the front so players can start early.
    func writeHeader(faststart: Bool) throws(MediaError) {
        var options: OpaquePointer? = nil
        if faststart { av_dict_set(&options, "movflags", "+faststart", 0) }
        defer { av_dict_free(&options) }
        try check(avformat_write_header(format, &options), .mux, path: url.path, "writing the header")
    }

    /// Writes a packet whose timestamps are in `timeBase`, for stream `stream`.
    func write(_ packet: UnsafeMutablePointer<AVPacket>, from timeBase: AVRational, to stream: UnsafeMutablePointer<AVStream>) throws(MediaError) {
        av_packet_rescale_ts(packet, timeBase, stream.pointee.time_base)
        packet.pointee.stream_index = stream.pointee.index
        try check(av_interleaved_write_frame(format, packet), .mux, path: url.path, "writing a packet")
    }

    /// Writes the trailer, closes the file and renames it to the destination. `verify` sees the
    /// complete file under its temporary name first; if it throws, the file is removed instead.
    func finish(verify: ((URL) throws -> Void)? = nil) throws {
        try check(av_write_trailer(format), .mux, path: url.path, "writing the trailer")
        try check(avio_closep(&format.pointee.pb), .write, path: temporaryPath, "closing the file")
        try verify?(URL(fileURLWithPath: temporaryPath))
        if rename(temporaryPath, url.path) != 0 {
            throw MediaError(.write, path: url.path, message: "renaming the finished file into place: \(String(cString: strerror(errno)))")
        }
        finished = true
    }
}
