import CFFmpeg

/// An encoder context, configured by the caller and opened with private options.
final class Encoder {
    let context: UnsafeMutablePointer<AVCodecContext>
    let path: String?
    private let packet = Packet()

    /// - Parameters:
    ///   - configure: sets size, format, rates and time base before the encoder opens.
    ///   - options: codec private options ("preset", "crf").
    init(
        codec name: String, path: String?, globalHeader: Bool, options: [String: String] = [:],
        configure: (UnsafeMutablePointer<AVCodecContext>) -> Void
    ) throws(MediaError) {
        _ = libavLogLevelSet
        self.path = path
        guard let codec = avcodec_find_encoder_by_name(name) else {
            throw MediaError(.encode, path: path, message: "encoder \(name) is not available in this libav build")
        }
        guard let ctx = avcodec_alloc_context3(codec) else {
            throw MediaError(.encode, path: path, message: "out of memory allocating the \(name) encoder")
        }
        context = ctx
        configure(ctx)
        if globalHeader { ctx.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER }
        var dictionary: OpaquePointer? = nil
        for (key, value) in options.sorted(by: { $0.key < $1.key }) { av_dict_set(&dictionary, key, value, 0) }
        defer { av_dict_free(&dictionary) }
        try check(avcodec_open2(ctx, codec, &dictionary), .encode, path: path, "opening the \(name) encoder")
    }

    /// The codec headers the encoder wrote (with a global header: H.264's SPS and PPS).
    var extradata: [UInt8] {
        guard let data = context.pointee.extradata, context.pointee.extradata_size > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: Int(context.pointee.extradata_size)))
    }

    deinit {
        var ctx: UnsafeMutablePointer<AVCodecContext>? = context
        avcodec_free_context(&ctx)
    }

    /// Sends one frame (nil flushes) and hands every packet that comes out to `body`.
    func encode(_ frame: UnsafeMutablePointer<AVFrame>?, _ body: (UnsafeMutablePointer<AVPacket>) throws -> Void) throws {
        let sent = avcodec_send_frame(context, frame)
        if sent < 0 && sent != reel_averror_eof() {
            try check(sent, .encode, path: path, "encoding a frame")
        }
        while true {
            let rc = avcodec_receive_packet(context, packet.pointer)
            if rc == reel_averror_eagain() || rc == reel_averror_eof() { return }
            try check(rc, .encode, path: path, "receiving an encoded packet")
            defer { av_packet_unref(packet.pointer) }
            try body(packet.pointer)
        }
    }
}
