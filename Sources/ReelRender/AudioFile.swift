import CFFmpeg
import Foundation

/// Decodes whole audio files into samples.
public enum AudioFile {
    /// Decodes the best audio stream of `url` (any container or codec libav reads) and converts it
    /// with swresample to `sampleRate` and `channels`.
    public static func read(_ url: URL, sampleRate: Int = 48_000, channels: Int = 2) throws -> AudioSamples {
        let input = try InputFile(url)
        let stream = try input.bestStream(AVMEDIA_TYPE_AUDIO)
        var resampler: Resampler?
        var samples: [Float] = []
        try input.decodeStream(stream) { frame in
            if resampler == nil {
                resampler = try Resampler(from: frame, toRate: sampleRate, channels: channels, path: input.path)
            }
            try resampler!.convert(frame, appendingTo: &samples)
        }
        try resampler?.convert(nil, appendingTo: &samples)
        return AudioSamples(sampleRate: sampleRate, channels: channels, samples: samples)
    }
}
