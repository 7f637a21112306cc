import CFFmpeg

/// A decoder opened for one stream of an `InputFile`.
final class Decoder {
    let context: UnsafeMutablePointer<AVCodecContext>
    let path: String
    private let frame = Frame()

    init(stream: UnsafeMutablePointer<AVStream>, path: String) throws(MediaError) {
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
        try check(avcodec_open2(ctx, codec, nil), .decode, path: path, "opening the decoder")
    }

    deinit {
        var ctx: UnsafeMutablePointer<AVCodecContext>? = context
        avcodec_free_context(&ctx)
    }

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
