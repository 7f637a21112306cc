/// PCM audio as interleaved 32-bit float samples in -1...1.
public struct AudioSamples: Sendable, Hashable {
    public var sampleRate: Int
    public var channels: Int
    /// `frameCount * channels` samples, channel-interleaved (L R L R … for stereo).
    public var samples: [Float]

    public init(sampleRate: Int, channels: Int, samples: [Float]) {
        precondition(sampleRate > 0 && channels > 0 && samples.count % channels == 0, "samples must hold whole frames")
        self.sampleRate = sampleRate
        self.channels = channels
        self.samples = samples
    }

    /// Silence of the given length.
    public init(silenceSeconds seconds: Double, sampleRate: Int = 48_000, channels: Int = 2) {
        let frames = max(0, Int((seconds * Double(sampleRate)).rounded()))
        self.init(sampleRate: sampleRate, channels: channels, samples: [Float](repeating: 0, count: frames * channels))
    }

    /// Sample frames (one sample per channel each).
    public var frameCount: Int { samples.count / channels }
    public var durationSeconds: Double { Double(frameCount) / Double(sampleRate) }

    /// Root mean square level over all samples: 0 for silence, about 0.707 for a full-scale sine.
    public var rms: Double {
        guard !samples.isEmpty else { return 0 }
        var sum = 0.0
        samples.withUnsafeBufferPointer { for s in $0 { sum += Double(s) * Double(s) } }
        return (sum / Double(samples.count)).squareRoot()
    }

    /// The same sound in `channels` channels: mono is copied to every channel, more channels are averaged down to mono first.
    public func withChannels(_ count: Int) -> AudioSamples {
        if count == channels { return self }
        var out = [Float](repeating: 0, count: frameCount * count)
        for frame in 0..<frameCount {
            var mono: Float = 0
            for c in 0..<channels { mono += samples[frame * channels + c] }
            mono /= Float(channels)
            for c in 0..<count { out[frame * count + c] = channels == 1 || count == 1 ? mono : samples[frame * channels + min(c, channels - 1)] }
        }
        return AudioSamples(sampleRate: sampleRate, channels: count, samples: out)
    }
}
