import CFFmpeg

/// A decoder opened for one stream of an `InputFile`.
final class Decoder {
    let context: UnsafeMutablePointer<AVCodecContext>
    let path: String
    private let frame = Frame()

    /// - Parameter threads: decoding threads (frame and slice threading); 1 decodes on the caller's thread.
    init(stream: UnsafeMutablePointer<AVStream>, path: String, threads: Int = 1) throws(MediaError) {
        self.path = path
        let parameters = stream.pointee.codecpar!
        guard let codec = avcodec_find_decoder(parameters.pointee.codec_id) else {
            throw MediaError(.decode, path: path, message: "no decoder for \(String(cString: avcodec_get_name(parameters.pointee.codec_id)))")
        }
        guard let ctx = avcodec_alloc_context3(codec) else {
            throw MediaError(.decode, path: path, message: "out of memory allocating a decoder")
        }
        context = ctx
        try check(avcodec_parameters_to_context(ctx, parameters), .decode, path: path, "configuring the decoder")
        ctx.pointee.pkt_timebase = stream.pointee.time_base
        ctx.pointee.thread_count = Int32(max(1, threads))
        if threads > 1 { ctx.pointee.thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE }
        try check(avcodec_open2(ctx, codec, nil), .decode, path: path, "opening the decoder")
    }

    deinit {
        var ctx: UnsafeMutablePointer<AVCodecContext>? = context
        avcodec_free_context(&ctx)
    }

    /// Drops buffered frames after a seek.
    func flush() { avcodec_flush_buffers(context) }

    /// Sends one packet (nil flushes) and hands every frame that comes out to `body`.
    func decode(_ packet: UnsafeMutablePointer<AVPacket>?, _ body: (UnsafeMutablePointer<AVFrame>) throws -> Void) throws {
        let sent = avcodec_send_packet(context, packet)
        if sent < 0 && sent != reel_averror_eof() {
            try check(sent, .decode, path: path, "decoding a packet")
        }
        while true {
            let rc = avcodec_receive_frame(context, frame.pointer)
            if rc == reel_averror_eagain() || rc == reel_averror_eof() { return }
            try check(rc, .decode, path: path, "decoding a frame")
            defer { av_frame_unref(frame.pointer) }
            try body(frame.pointer)
        }
    }
}
