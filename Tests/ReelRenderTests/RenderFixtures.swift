import Foundation
import ReelCore
import ReelRender

/// Small inputs for render tests: solid-colour clips (so a mix of two is easy to see), tones of
/// known frequency (so one sound can be measured under another), made fresh in a temporary directory.
enum RenderFixtures {
    static let width = 320
    static let height = 180
    static let fps = 25.0

    static let red = RGBImage(width: 64, height: 36, red: 220, green: 30, blue: 30)
    static let blue = RGBImage(width: 64, height: 36, red: 30, green: 40, blue: 220)
    static let grey = RGBImage(width: 64, height: 36, red: 110, green: 110, blue: 110)

    /// An H.264 + silent AAC clip of one colour.
    @discardableResult
    static func clip(_ color: RGBImage, seconds: Double, in directory: URL, name: String, width: Int = width, height: Int = height, fps: Int = 25) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try ClipSynthesizer.makeClip(
            from: color, to: nil, options: .init(width: width, height: height, framesPerSecond: fps, seconds: seconds, zoom: 0), writingTo: url)
        return url
    }

    /// A mono 16-bit WAV of a sine at `frequency`, sounding from `from` to `to` seconds (silent elsewhere).
    @discardableResult
    static func tone(
        frequency: Double, amplitude: Double, seconds: Double, from: Double = 0, to: Double? = nil, in directory: URL, name: String
    ) throws -> URL {
        let rate = 48_000
        let frames = Int(seconds * Double(rate))
        let end = to ?? seconds
        var data = Data()
        func u32(_ v: Int) { withUnsafeBytes(of: UInt32(v).littleEndian) { data.append(contentsOf: $0) } }
        func u16(_ v: Int) { withUnsafeBytes(of: UInt16(v).littleEndian) { data.append(contentsOf: $0) } }
        data.append(contentsOf: Array("RIFF".utf8)); u32(36 + frames * 2)
        data.append(contentsOf: Array("WAVEfmt ".utf8)); u32(16); u16(1); u16(1); u32(rate); u32(rate * 2); u16(2); u16(16)
        data.append(contentsOf: Array("data".utf8)); u32(frames * 2)
        for i in 0..<frames {
            let t = Double(i) / Double(rate)
            let on = t >= from && t < end ? 1.0 : 0.0
            u16(Int(UInt16(bitPattern: Int16(32767 * amplitude * on * sin(2 * .pi * frequency * t)))))
        }
        let url = directory.appendingPathComponent(name)
        try data.write(to: url)
        return url
    }

    /// The output the tests render to: small and quick.
    static func output(_ format: OutputFormat = .mp4, loudness: Double? = nil) -> TimelineOutput {
        TimelineOutput(format: format, width: width, height: height, fps: fps, preset: "ultrafast", loudness: loudness)
    }

    /// Amplitude of `frequency` in `samples` (one channel of interleaved stereo) by the Goertzel algorithm.
    static func amplitude(of frequency: Double, in audio: AudioSamples, from: Double, to: Double) -> Double {
        let rate = Double(audio.sampleRate)
        let first = Int(from * rate), last = min(audio.frameCount, Int(to * rate))
        let n = Double(last - first)
        let w = 2 * Double.pi * frequency / rate
        let coefficient = 2 * cos(w)
        var s1 = 0.0, s2 = 0.0
        for i in first..<last {
            let s = Double(audio.samples[i * audio.channels]) + coefficient * s1 - s2
            s2 = s1
            s1 = s
        }
        let power = s1 * s1 + s2 * s2 - coefficient * s1 * s2
        return 2 * power.squareRoot() / n
    }

    /// Mean of each channel over a rectangle of an image.
    static func meanColor(_ image: RGBImage, x: Range<Int>? = nil, y: Range<Int>? = nil) -> (r: Double, g: Double, b: Double) {
        let xs = x ?? 0..<image.width, ys = y ?? 0..<image.height
        var sum = (0.0, 0.0, 0.0)
        for row in ys {
            for column in xs {
                let i = (row * image.width + column) * 3
                sum.0 += Double(image.pixels[i]); sum.1 += Double(image.pixels[i + 1]); sum.2 += Double(image.pixels[i + 2])
            }
        }
        let n = Double(xs.count * ys.count)
        return (sum.0 / n, sum.1 / n, sum.2 / n)
    }

    /// Mean absolute difference per channel over rows `rows` of two same-size images.
    static func difference(_ a: RGBImage, _ b: RGBImage, rows: Range<Int>) -> Double {
        var total = 0
        for row in rows {
            for i in (row * a.width * 3)..<((row + 1) * a.width * 3) { total += abs(Int(a.pixels[i]) - Int(b.pixels[i])) }
        }
        return Double(total) / Double(rows.count * a.width * 3)
    }
}
