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
    private let url: URL
    /// The file, opened when the first of its samples is asked for and closed once the span has
    /// been handed out: a soundtrack graph has a reader for every sound of the film, and holds
    /// files and decoders only for the ones sounding now.
    private var open: (input: InputFile, stream: UnsafeMutablePointer<AVStream>, decoder: Decoder)?
    private var resampler: Resampler?
    private let packet = Packet()
    /// Interleaved stereo samples decoded but not yet handed out.
    private var pending: [Float] = []
    /// Samples (per channel) of silence still to hand out before the span, then still to skip
    /// before the span starts, and still to hand out.
    private var silence: Int
    private var skip: Int?
    private var remaining: Int
    private let inPoint: Double
    private var emitted: Int64 = 0
    private var endOfInput = false
    private var flushed = false

    /// - Parameter length: seconds to read from `inPoint`; nil reads to the asset's end.
    /// - Parameter delay: seconds of silence before the span (where the sound starts in the film).
    init(url: URL, in inPoint: Double, length: Double?, delay: Double = 0, label: String) {
        self.url = url
        self.label = label
        self.inPoint = inPoint
        silence = max(0, Int((delay * Double(Self.sampleRate)).rounded()))
        remaining = length.map { max(0, Int(($0 * Double(Self.sampleRate)).rounded())) } ?? Int.max
    }

    /// Opens the file and seeks near the in point: when the first of its samples is wanted.
    private func opened() throws(MediaError) -> (input: InputFile, stream: UnsafeMutablePointer<AVStream>, decoder: Decoder) {
        if let open { return open }
        let input = try InputFile(url)
        let stream = try input.bestStream(AVMEDIA_TYPE_AUDIO)
        input.readOnly(stream)
        let decoder = try Decoder(stream: stream, path: input.path)
        if inPoint > 0.5 {
            let target = Int64(((inPoint - 0.25) / av_q2d(stream.pointee.time_base)).rounded())
            try input.seek(stream, to: target)
        }
        let made = (input: input, stream: stream, decoder: decoder)
        open = made
        return made
    }

    /// Fills `frame` with the next samples (up to `frameSize`); false once the span is over.
    func next(into frame: UnsafeMutablePointer<AVFrame>) throws(MediaError) -> Bool {
        if silence > 0 {
            let count = min(Self.frameSize, silence)
            try allocate(frame, samples: count)
            av_samples_set_silence(reel_frame_data(frame), 0, Int32(count), Int32(Self.channels), AV_SAMPLE_FMT_FLT)
            silence -= count
            return true
        }
        while pending.count < Self.frameSize * Self.channels && remaining > pending.count / Self.channels && !flushed {
            try VideoClipReader.wrap(label) { () throws(MediaError) in try decodeMore() }
        }
        let count = min(Self.frameSize, pending.count / Self.channels, remaining)
        guard count > 0 else {
            // The span is over: its file and decoder go now, not when the soundtrack ends.
            open = nil
            resampler = nil
            return false
        }
        try allocate(frame, samples: count)
        pending.withUnsafeBufferPointer { source in
            UnsafeMutableRawPointer(frame.pointee.data.0!).copyMemory(
                from: source.baseAddress!, byteCount: count * Self.channels * MemoryLayout<Float>.size)
        }
        pending.removeFirst(count * Self.channels)
        remaining -= count
        return true
    }

    /// Gives `frame` room for `samples` stereo float samples at the next timestamp.
    private func allocate(_ frame: UnsafeMutablePointer<AVFrame>, samples count: Int) throws(MediaError) {
        frame.pointee.format = AV_SAMPLE_FMT_FLT.rawValue
        frame.pointee.sample_rate = Int32(Self.sampleRate)
        frame.pointee.nb_samples = Int32(count)
        av_channel_layout_default(&frame.pointee.ch_layout, Int32(Self.channels))
        try check(av_frame_get_buffer(frame, 0), .decode, path: url.path, "\(label): allocating an audio frame")
        frame.pointee.pts = emitted
        emitted += Int64(count)
    }

    private func decodeMore() throws(MediaError) {
        if endOfInput {
            try decode(nil)
            do {
                try resampler?.convert(nil, appendingTo: &pending)
            } catch {
                throw error as? MediaError ?? MediaError(.resample, path: url.path, message: "\(error)")
            }
            flushed = true
            return
        }
        let file = try opened()
        guard try file.input.readPacket(into: packet.pointer) else {
            endOfInput = true
            return
        }
        defer { av_packet_unref(packet.pointer) }
        if packet.pointer.pointee.stream_index == file.stream.pointee.index { try decode(packet.pointer) }
    }

    private func decode(_ packet: UnsafeMutablePointer<AVPacket>?) throws(MediaError) {
        let (input, stream, decoder) = try opened()
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
            throw MediaError(.decode, path: url.path, message: "\(error)")
        }
    }
}
