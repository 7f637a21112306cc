import CFFmpeg

/// A swresample context converting decoded frames to interleaved float at a fixed rate and channel count.
final class Resampler {
    private var context: OpaquePointer?
    let sampleRate: Int
    let channels: Int
    let path: String?

    init(from frame: UnsafeMutablePointer<AVFrame>, toRate sampleRate: Int, channels: Int, path: String?) throws(MediaError) {
        self.sampleRate = sampleRate
        self.channels = channels
        self.path = path
        var inLayout = AVChannelLayout()
        if frame.pointee.ch_layout.order == AV_CHANNEL_ORDER_UNSPEC || frame.pointee.ch_layout.nb_channels == 0 {
            av_channel_layout_default(&inLayout, max(1, frame.pointee.ch_layout.nb_channels))
        } else {
            av_channel_layout_copy(&inLayout, &frame.pointee.ch_layout)
        }
        defer { av_channel_layout_uninit(&inLayout) }
        var outLayout = AVChannelLayout()
        av_channel_layout_default(&outLayout, Int32(channels))
        defer { av_channel_layout_uninit(&outLayout) }
        try check(
            swr_alloc_set_opts2(
                &context, &outLayout, AV_SAMPLE_FMT_FLT, Int32(sampleRate),
                &inLayout, AVSampleFormat(frame.pointee.format), frame.pointee.sample_rate, 0, nil),
            .resample, path: path, "configuring the resampler")
        try check(swr_init(context), .resample, path: path, "opening the resampler")
    }

    deinit { swr_free(&context) }

    /// Converts one frame (nil drains what the resampler holds back) and appends to `output`.
    func convert(_ frame: UnsafeMutablePointer<AVFrame>?, appendingTo output: inout [Float]) throws {
        let inCount = frame.map { Int32($0.pointee.nb_samples) } ?? 0
        let capacity = Int(swr_get_out_samples(context, inCount)) + 32
        guard capacity > 0 else { return }
        var chunk = [Float](repeating: 0, count: capacity * channels)
        let produced = try chunk.withUnsafeMutableBytes { (raw: UnsafeMutableRawBufferPointer) throws -> Int32 in
            var planes: [UnsafeMutablePointer<UInt8>?] = [raw.baseAddress!.assumingMemoryBound(to: UInt8.self)]
            let source = frame.map { $0.pointee.extended_data } ?? nil
            return try check(
                reel_swr_convert(context, &planes, Int32(capacity), source, inCount),
                .resample, path: path, "resampling")
        }
        output.append(contentsOf: chunk[0..<(Int(produced) * channels)])
    }
}
