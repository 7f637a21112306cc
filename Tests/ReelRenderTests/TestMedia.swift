import Foundation
import ReelRender

/// Fixtures made in the test, independent of the code under test where it matters.
enum TestMedia {
    /// A fresh directory, removed after `body`.
    static func withTemporaryDirectory<T>(_ body: (URL) throws -> T) throws -> T {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("reelrender-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: url) }
        return try body(url)
    }

    /// A diagonal gradient between two colours: smooth, so encoding loses little.
    static func gradient(width: Int, height: Int, from a: (Double, Double, Double), to b: (Double, Double, Double)) -> RGBImage {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let t = (Double(x) / Double(width) + Double(y) / Double(height)) / 2
                let i = (y * width + x) * 3
                pixels[i] = UInt8(a.0 + (b.0 - a.0) * t)
                pixels[i + 1] = UInt8(a.1 + (b.1 - a.1) * t)
                pixels[i + 2] = UInt8(a.2 + (b.2 - a.2) * t)
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    static let warm = gradient(width: 640, height: 360, from: (220, 40, 30), to: (250, 200, 60))
    static let cool = gradient(width: 640, height: 360, from: (20, 40, 160), to: (40, 200, 220))

    /// A 16-bit PCM WAV written byte by byte, so probing it does not depend on our own writers.
    static func writeWAV(seconds: Double, sampleRate: Int = 44_100, to url: URL) throws {
        let frames = Int(seconds * Double(sampleRate))
        var data = Data()
        func u32(_ v: Int) { withUnsafeBytes(of: UInt32(v).littleEndian) { data.append(contentsOf: $0) } }
        func u16(_ v: Int) { withUnsafeBytes(of: UInt16(v).littleEndian) { data.append(contentsOf: $0) } }
        data.append(contentsOf: Array("RIFF".utf8)); u32(36 + frames * 2)
        data.append(contentsOf: Array("WAVEfmt ".utf8)); u32(16); u16(1); u16(1); u32(sampleRate); u32(sampleRate * 2); u16(2); u16(16)
        data.append(contentsOf: Array("data".utf8)); u32(frames * 2)
        for i in 0..<frames { u16(Int(UInt16(bitPattern: Int16(8000 * sin(2 * Double.pi * 440 * Double(i) / Double(sampleRate)))))) }
        try data.write(to: url)
    }
}
