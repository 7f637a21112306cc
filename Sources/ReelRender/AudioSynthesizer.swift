import Foundation
import ReelCore

/// Makes placeholder sound from a seed: deterministic, offline, and honest about what it is.
///
/// None of this is speech synthesis or composition. `speechLike` is formant-filtered buzz with a
/// syllable-rate envelope so a timeline has voice-shaped audio of the right length; `music` is a
/// four-chord pad; `soundEffect` is a filtered noise whoosh.
public enum AudioSynthesizer {
    /// Voice-shaped tones for `text`: about `charactersPerSecond` characters a second, pauses at
    /// spaces and punctuation, vowel-like formants. Mono.
    public static func speechLike(
        text: String, seed: UInt64 = 0, sampleRate: Int = 48_000, charactersPerSecond: Double = 14
    ) -> AudioSamples {
        var random = SeededRandom(text: text, seed: seed)
        let characters = Array(text.lowercased().unicodeScalars)
        let speakingSeconds = max(0.5, Double(characters.count) / charactersPerSecond)
        let frames = Int((speakingSeconds + 0.25) * Double(sampleRate))
        let rate = Double(sampleRate)
        let baseF0 = 100 + 90 * random.unit()
        let syllableRate = 4 + 1.5 * random.unit()
        // (F1, F2) of a, e, i, o, u: the vowel colour each letter borrows.
        let formants: [(Double, Double)] = [(730, 1090), (530, 1840), (270, 2290), (570, 840), (300, 870)]
        let harmonics = 12
        var amplitudes = [Double](repeating: 0, count: harmonics)
        var out = [Float](repeating: 0, count: frames)
        var phase = 0.0
        var envelope = 0.0
        var noiseState = random.next()
        for i in 0..<frames {
            let t = Double(i) / rate
            let index = Int(t * charactersPerSecond)
            let scalar = index < characters.count ? characters[index] : " "
            let voiced = CharacterSet.alphanumerics.contains(scalar)
            // Pitch falls gently through each sentence and wobbles slightly.
            let f0 = baseF0 * (1.15 - 0.25 * (t.truncatingRemainder(dividingBy: 3.0) / 3.0)) * (1 + 0.02 * sin(2 * .pi * 5 * t))
            if i % 256 == 0 {
                let (f1, f2) = formants[Int(scalar.value) % formants.count]
                for k in 0..<harmonics {
                    let f = Double(k + 1) * f0
                    amplitudes[k] = (1 / (1 + pow((f - f1) / 90, 2)) + 0.6 / (1 + pow((f - f2) / 120, 2))) / Double(k + 1).squareRoot()
                }
            }
            phase += f0 / rate
            if phase > 1 { phase -= 1 }
            var value = 0.0
            for k in 0..<harmonics where amplitudes[k] > 0.01 { value += amplitudes[k] * sin(2 * .pi * Double(k + 1) * phase) }
            // Hiss for sibilant letters.
            if "sfhztckpx".unicodeScalars.contains(scalar) {
                noiseState = noiseState &* 6364136223846793005 &+ 1442695040888963407
                value += 0.25 * (Double(noiseState >> 40) / Double(1 << 24) - 0.5)
            }
            let syllable = pow(sin(.pi * (t * syllableRate).truncatingRemainder(dividingBy: 1)), 2)
            let target = voiced ? 0.2 + 0.8 * syllable : 0
            envelope += (target - envelope) * 0.002
            out[i] = Float(0.35 * envelope * value)
        }
        return AudioSamples(sampleRate: sampleRate, channels: 1, samples: out)
    }

    /// A soft four-chord progression (pad, bass, a slow arpeggio) in a key chosen by `seed`. Stereo.
    public static func music(durationSeconds: Double, seed: UInt64 = 0, sampleRate: Int = 48_000) -> AudioSamples {
        var random = SeededRandom(seed: seed)
        let rate = Double(sampleRate)
        let frames = max(1, Int(durationSeconds * rate))
        let root = 48 + Int(random.next() % 12)
        let progressions: [[Int]] = [[0, 7, 9, 5], [0, 5, 7, 5], [9, 5, 0, 7], [0, 9, 5, 7]]
        let progression = progressions[Int(random.next() % UInt64(progressions.count))]
        let chordSeconds = 1.8 + 0.8 * random.unit()
        func hz(_ midi: Int) -> Double { 440 * pow(2, Double(midi - 69) / 12) }
        func tone(_ f: Double, _ t: Double) -> Double {
            sin(2 * .pi * f * t) + 0.3 * sin(4 * .pi * f * t) + 0.1 * sin(6 * .pi * f * t)
        }
        var out = [Float](repeating: 0, count: frames * 2)
        for i in 0..<frames {
            let t = Double(i) / rate
            let chordIndex = Int(t / chordSeconds)
            let inChord = t - Double(chordIndex) * chordSeconds
            let degree = progression[chordIndex % progression.count]
            // vi is minor; the others major.
            let third = degree == 9 ? 3 : 4
            let chordRoot = root + degree
            let notes = [chordRoot + 12, chordRoot + 12 + third, chordRoot + 19]
            let pad = min(1, inChord / 0.4) * min(1, (chordSeconds - inChord) / 0.5 + 0.2)
            var left = 0.0
            var right = 0.0
            for (n, note) in notes.enumerated() {
                let v = tone(hz(note), t) * pad
                left += v * (n == 2 ? 0.6 : 1)
                right += v * (n == 0 ? 0.6 : 1)
            }
            let bass = sin(2 * .pi * hz(chordRoot - 12) * t) * pad
            let step = Int(inChord / (chordSeconds / 4))
            let arpTime = inChord - Double(step) * chordSeconds / 4
            let arp = sin(2 * .pi * hz(notes[step % 3] + 12) * t) * exp(-arpTime * 6)
            let master = min(1, t / 0.5) * min(1, (durationSeconds - t) / 0.8)
            out[2 * i] = Float(0.08 * master * (left + 1.5 * bass + 0.8 * arp))
            out[2 * i + 1] = Float(0.08 * master * (right + 1.5 * bass + 0.6 * arp))
        }
        return AudioSamples(sampleRate: sampleRate, channels: 2, samples: out)
    }

    /// A whoosh: white noise through a band-pass whose centre sweeps up and back, panning left to right. Stereo.
    public static func soundEffect(durationSeconds: Double, seed: UInt64 = 0, sampleRate: Int = 48_000) -> AudioSamples {
        var random = SeededRandom(seed: seed)
        let rate = Double(sampleRate)
        let frames = max(1, Int(durationSeconds * rate))
        let low = 250 + 250 * random.unit()
        let high = 2500 + 2500 * random.unit()
        let peakAt = 0.3 + 0.3 * random.unit()
        var lowpass = 0.0
        var bandpass = 0.0
        var out = [Float](repeating: 0, count: frames * 2)
        for i in 0..<frames {
            let x = Double(i) / Double(frames)
            let sweep = x < peakAt ? x / peakAt : 1 - (x - peakAt) / (1 - peakAt)
            let centre = low * pow(high / low, sweep)
            // Chamberlin state-variable filter, Q about 2.
            let f = 2 * sin(.pi * centre / rate)
            let noise = random.unit() * 2 - 1
            let highpass = noise - lowpass - 0.5 * bandpass
            bandpass += f * highpass
            lowpass += f * bandpass
            let envelope = x < peakAt ? pow(x / peakAt, 2) : exp(-4 * (x - peakAt) / (1 - peakAt))
            let value = 0.6 * envelope * bandpass
            out[2 * i] = Float(value * (1 - 0.7 * x))
            out[2 * i + 1] = Float(value * (0.3 + 0.7 * x))
        }
        return AudioSamples(sampleRate: sampleRate, channels: 2, samples: out)
    }
}
