import CFFmpeg
import Foundation

/// Decodes one span of an audio (or video) asset's sound as 48 kHz stereo float frames of a
/// fixed size, timestamps rebased so the span starts at 0: what a voice line, the music or a
/// clip's own sound feeds into the soundtrack graph.
final class AudioClipReader {
    static let sampleRate = 48_000
    static let channels = 2
    static let frameSize = 1024

    let label: String
    private let input: InputFile
    private let stream: UnsafeMutablePointer<AVStream>
    private let decoder: Decoder
    private var resampler: Resampler?
    private let packet = Packet()
    /// Interleaved stereo samples decoded but not yet handed out.
    private var pending: [Float] = []
    /// Samples (per channel) still to skip before the span starts, and still to hand out.
    private var skip: Int?
    private var remaining: Int
    private let inPoint: Double
    private var emitted: Int64 = 0
    private var endOfInput = false
    private var flushed = false

    /// - Parameter length: seconds to read from `inPoint`; nil reads to the asset's end.
    init(url: URL, in inPoint: Double, length: Double?, label: String) throws(MediaError) {
        self.label = label
        self.inPoint = inPoint
        let input = try VideoClipReader.wrap(label) { () throws(MediaError) in try InputFile(url) }
        let stream = try VideoClipReader.wrap(label) { () throws(MediaError) in try input.bestStream(AVMEDIA_TYPE_AUDIO) }
        self.input = input
        self.stream = stream
        input.readOnly(stream)
        decoder = try VideoClipReader.wrap(label) { () throws(MediaError) in try Decoder(stream: stream, path: input.path) }
        remaining = length.map { max(0, Int(($0 * Double(Self.sampleRate)).rounded())) } ?? Int.max
        if inPoint > 0.5 {
            let target = Int64(((inPoint - 0.25) / av_q2d(stream.pointee.time_base)).rounded())
            try VideoClipReader.wrap(label) { () throws(MediaError) in try input.seek(stream, to: target) }
        }
    }

    /// Fills `frame` with the next samples (up to `frameSize`); false once the span is over.
    func next(into frame: UnsafeMutablePointer<AVFrame>) throws(MediaError) -> Bool {
        while pending.count < Self.frameSize * Self.channels && remaining > pending.count / Self.channels && !flushed {
            try VideoClipReader.wrap(label) { () throws(MediaError) in try decodeMore() }
        }
        let count = min(Self.frameSize, pending.count / Self.channels, remaining)
        guard count > 0 else { return false }
        frame.pointee.format = AV_SAMPLE_FMT_FLT.rawValue
        frame.pointee.sample_rate = Int32(Self.sampleRate)
        frame.pointee.nb_samples = Int32(count)
        av_channel_layout_default(&frame.pointee.ch_layout, Int32(Self.channels))
        try check(av_frame_get_buffer(frame, 0), .decode, path: input.path, "\(label): allocating an audio frame")
        pending.withUnsafeBufferPointer { source in
            UnsafeMutableRawPointer(frame.pointee.data.0!).copyMemory(
                from: source.baseAddress!, byteCount: count * Self.channels * MemoryLayout<Float>.size)
        }
        pending.removeFirst(count * Self.channels)
        frame.pointee.pts = emitted
        emitted += Int64(count)
        remaining -= count
        return true
    }

    private func decodeMore() throws(MediaError) {
        if endOfInput {
            try decode(nil)
            do {
                try resampler?.convert(nil, appendingTo: &pending)
            } catch {
                throw error as? MediaError ?? MediaError(.resample, path: input.path, message: "\(error)")
            }
            flushed = true
            return
        }
        guard try input.readPacket(into: packet.pointer) else {
            endOfInput = true
            return
        }
        defer { av_packet_unref(packet.pointer) }
        if packet.pointer.pointee.stream_index == stream.pointee.index { try decode(packet.pointer) }
    }

    private func decode(_ packet: UnsafeMutablePointer<AVPacket>?) throws(MediaError) {
        do {
            try decoder.decode(packet) { decoded in
                if resampler == nil {
                    resampler = try Resampler(from: decoded, toRate: Self.sampleRate, channels: Self.channels, path: input.path)
                }
                if skip == nil {
                    // The first decoded frame says where decoding (re)started; skip to the in point from there.
                    var pts = decoded.pointee.best_effort_timestamp
                    if pts == reel_av_nopts_value() { pts = 0 }
                    let start = InputFile.startTime(of: stream)
                    let seconds = Double(pts - start) * av_q2d(stream.pointee.time_base)
                    skip = max(0, Int(((inPoint - seconds) * Double(Self.sampleRate)).rounded()))
                }
                try resampler!.convert(decoded, appendingTo: &pending)
                if let toSkip = skip, toSkip > 0 {
                    let dropped = min(toSkip, pending.count / Self.channels)
                    pending.removeFirst(dropped * Self.channels)
                    skip = toSkip - dropped
                }
            }
        } catch let error as MediaError {
            throw error
        } catch {
            throw MediaError(.decode, path: input.path, message: "\(error)")
        }
    }
}
