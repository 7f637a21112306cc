import Foundation
import ReelRender

/// Real, decodable media for the fakes to serve, made here with libav as the local provider
/// makes its own: a film rendered from them must decode.
enum FakeMedia {
    /// A PNG of one colour.
    static func png(width: Int = 640, height: Int = 360, red: UInt8 = 200, green: UInt8 = 120, blue: UInt8 = 40) throws -> [UInt8] {
        try written("png") { try ImageIO.writePNG(RGBImage(width: width, height: height, red: red, green: green, blue: blue), to: $0) }
    }

    /// An H.264 + AAC MP4 of `seconds`, moving from one colour to another.
    static func mp4(seconds: Double, width: Int = 640, height: Int = 360) throws -> [UInt8] {
        try written("mp4") {
            _ = try ClipSynthesizer.makeClip(
                from: RGBImage(width: width, height: height, red: 30, green: 60, blue: 200),
                to: RGBImage(width: width, height: height, red: 220, green: 180, blue: 20),
                options: .init(width: width, height: height, framesPerSecond: 24, seconds: seconds), writingTo: $0)
        }
    }

    /// An AAC (M4A) tone of `seconds`.
    static func m4a(seconds: Double, seed: UInt64 = 1) throws -> [UInt8] {
        try written("m4a") { _ = try AudioWriter.writeM4A(AudioSynthesizer.music(durationSeconds: seconds, seed: seed), to: $0) }
    }

    private static func written(_ suffix: String, _ write: (URL) throws -> Void) throws -> [UInt8] {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("reeld-fake-media-\(UUID().uuidString).\(suffix)")
        defer { try? FileManager.default.removeItem(at: url) }
        try write(url)
        return Array(try Data(contentsOf: url))
    }
}
