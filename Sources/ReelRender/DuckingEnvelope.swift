import Foundation
import ReelCore

/// The music's gain over the film, in dB, from where the voice speaks.
///
/// Speech is found from the voice's level over short windows; gaps too short for the music to
/// come back up are bridged so it does not pump between words. Because the whole voice track is
/// known before mixing, the music starts falling `attack` seconds *before* the voice and is fully
/// down for as long as the voice speaks, then rises over `release` seconds.
struct DuckingEnvelope: Sendable, Hashable {
    /// Seconds per window.
    static let window = 0.02
    /// Windows louder than this (RMS, dBFS) count as speech.
    static let threshold = -45.0

    /// Gain in dB at the centre of each window (0 is unchanged, −depth fully ducked).
    let gains: [Double]

    /// - Parameter levels: the voice's RMS level in dBFS per window, from film time 0.
    init(levels: [Double], ducking: Ducking) {
        let count = levels.count
        var speaking = levels.map { $0 > Self.threshold }
        // Bridge gaps the music could not recover in anyway.
        let bridge = Int(((ducking.attack + ducking.release + 0.25) / Self.window).rounded())
        var lastSpeech: Int?
        for i in 0..<count where speaking[i] {
            if let last = lastSpeech, i - last > 1, i - last <= bridge {
                for j in (last + 1)..<i { speaking[j] = true }
            }
            lastSpeech = i
        }
        // Distance, in windows, to the nearest speech ahead and behind.
        let attackWindows = ducking.attack / Self.window
        let releaseWindows = ducking.release / Self.window
        var ahead = [Double](repeating: .infinity, count: count)
        var next = Double.infinity
        for i in stride(from: count - 1, through: 0, by: -1) {
            next = speaking[i] ? 0 : next + 1
            ahead[i] = next
        }
        var gains = [Double](repeating: 0, count: count)
        var behind = Double.infinity
        for i in 0..<count {
            behind = speaking[i] ? 0 : behind + 1
            if speaking[i] {
                gains[i] = -ducking.depthDB
                continue
            }
            let falling = attackWindows > 0 ? max(0, 1 - ahead[i] / attackWindows) : (ahead[i] == 0 ? 1 : 0)
            let rising = releaseWindows > 0 ? max(0, 1 - behind / releaseWindows) : (behind == 0 ? 1 : 0)
            gains[i] = -ducking.depthDB * max(falling, rising)
        }
        self.gains = gains
    }

    /// Linear gain at `seconds` into the film, interpolated between window centres.
    func linearGain(at seconds: Double) -> Float {
        guard !gains.isEmpty else { return 1 }
        let position = seconds / Self.window - 0.5
        let i = Int(position.rounded(.down))
        let a = gains[min(max(i, 0), gains.count - 1)]
        let b = gains[min(max(i + 1, 0), gains.count - 1)]
        let t = min(max(position - Double(i), 0), 1)
        return Float(pow(10, (a + (b - a) * t) / 20))
    }
}
