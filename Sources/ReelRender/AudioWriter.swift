import CFFmpeg
import Foundation

/// Writes audio files.
public enum AudioWriter {
    /// Encodes mono or stereo samples to AAC in an `.m4a` (MP4 audio) at 48 kHz, resampling
    /// first if needed. Written to a temporary name and renamed, so `url` is never half written.
    @discardableResult
    public static func writeM4A(_ audio: AudioSamples, to url: URL) throws -> MediaFacts {
        guard audio.channels == 1 || audio.channels == 2 else {
            throw MediaError(.invalidInput, path: url.path, message: "only mono or stereo audio, not \(audio.channels) channels")
        }
        let audio = audio.sampleRate == 48_000 ? audio : try resample(audio, to: 48_000, path: url.path)
        let output = try OutputFile(url)
        let track = try AACTrackEncoder(sampleRate: 48_000, channels: audio.channels, path: url.path, globalHeader: output.wantsGlobalHeader)
        let stream = try output.addStream(for: track.encoder)
        try output.writeHeader(faststart: true)
        try track.encode(audio) { packet in try output.write(packet, from: track.timeBase, to: stream) }
        try output.finish()
        return try MediaProbe.probe(url)
    }

    /// Converts the sample rate with swresample.
    static func resample(_ audio: AudioSamples, to rate: Int, path: String?) throws -> AudioSamples {
        let frame = Frame()
        let f = frame.pointer
        f.pointee.format = AV_SAMPLE_FMT_FLT.rawValue
        f.pointee.sample_rate = Int32(audio.sampleRate)
        f.pointee.nb_samples = Int32(audio.frameCount)
        av_channel_layout_default(&f.pointee.ch_layout, Int32(audio.channels))
        try check(av_frame_get_buffer(f, 0), .resample, path: path, "allocating a buffer to resample")
        audio.samples.withUnsafeBytes { bytes in
            UnsafeMutableRawPointer(f.pointee.extended_data[0]!).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        }
        let resampler = try Resampler(from: f, toRate: rate, channels: audio.channels, path: path)
        var out: [Float] = []
        try resampler.convert(f, appendingTo: &out)
        try resampler.convert(nil, appendingTo: &out)
        return AudioSamples(sampleRate: rate, channels: audio.channels, samples: out)
    }
}
