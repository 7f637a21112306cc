import Foundation
import ReelRender

/// ITU-R BS.1770-4 loudness and sample peak, computed here in Swift from decoded PCM, so that a
/// test of the renderer's loudness does not measure it with the renderer's own `ebur128` graph.
///
/// K-weighting (the standard's two biquads for 48 kHz), 400 ms blocks every 100 ms, the
/// absolute gate at −70 LUFS and the relative gate 10 LU under the ungated mean.
enum BS1770 {
    struct Biquad {
        let b0, b1, b2, a1, a2: Double
        var x1 = 0.0, x2 = 0.0, y1 = 0.0, y2 = 0.0

        mutating func run(_ x: Double) -> Double {
            let y = b0 * x + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2
            x2 = x1; x1 = x; y2 = y1; y1 = y
            return y
        }
    }

    /// The pre-filter (a high shelf) and the RLB high-pass, at 48 kHz (BS.1770-4, tables 1 and 2).
    static func kWeighting() -> [Biquad] {
        [
            Biquad(b0: 1.53512485958697, b1: -2.69169618940638, b2: 1.19839281085285, a1: -1.69065929318241, a2: 0.73248077421585),
            Biquad(b0: 1.0, b1: -2.0, b2: 1.0, a1: -1.99004745483398, a2: 0.99007225036621),
        ]
    }

    /// Integrated loudness in LUFS of 48 kHz audio (left and right weighted 1); nil when every
    /// block is under the absolute gate.
    static func integratedLoudness(_ audio: AudioSamples) -> Double? {
        precondition(audio.sampleRate == 48_000, "the K-weighting coefficients are for 48 kHz")
        let channels = audio.channels, frames = audio.frameCount
        // The weighted square of each sample, summed over channels.
        var power = [Double](repeating: 0, count: frames)
        for c in 0..<channels {
            var filters = kWeighting()
            for n in 0..<frames {
                var x = Double(audio.samples[n * channels + c])
                for f in filters.indices { x = filters[f].run(x) }
                power[n] += x * x
            }
        }
        let block = 19_200, step = 4_800
        guard frames >= block else { return nil }
        var prefix = [Double](repeating: 0, count: frames + 1)
        for n in 0..<frames { prefix[n + 1] = prefix[n] + power[n] }
        let blocks = stride(from: 0, through: frames - block, by: step).map { (prefix[$0 + block] - prefix[$0]) / Double(block) }
        func loudness(_ meanSquare: Double) -> Double { -0.691 + 10 * log10(meanSquare) }
        let absolute = blocks.filter { $0 > 0 && loudness($0) > -70 }
        guard !absolute.isEmpty else { return nil }
        let relativeGate = loudness(absolute.reduce(0, +) / Double(absolute.count)) - 10
        let gated = absolute.filter { loudness($0) > relativeGate }
        return loudness(gated.reduce(0, +) / Double(gated.count))
    }

    /// The largest sample magnitude, in dBFS.
    static func samplePeak(_ audio: AudioSamples) -> Double {
        20 * log10(Double(audio.samples.map { abs($0) }.max() ?? 0))
    }

    /// Stereo 48 kHz sine at `frequency` with peak `amplitude` on the chosen channels: a
    /// reference signal of known loudness.
    static func sine(frequency: Double, amplitude: Double, seconds: Double, left: Bool = true, right: Bool = true) -> AudioSamples {
        let frames = Int(seconds * 48_000)
        var samples = [Float](repeating: 0, count: frames * 2)
        for n in 0..<frames {
            let v = Float(amplitude * sin(2 * .pi * frequency * Double(n) / 48_000))
            if left { samples[2 * n] = v }
            if right { samples[2 * n + 1] = v }
        }
        return AudioSamples(sampleRate: 48_000, channels: 2, samples: samples)
    }
}
