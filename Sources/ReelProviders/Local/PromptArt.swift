import Foundation
import ReelRender
import ReelCore

/// Deterministic abstract pictures from a prompt: a two-colour sky gradient, a horizon band and
/// a few soft discs and slabs, all chosen by the prompt's hash. Placeholder art, nothing more.
enum PromptArt {
    static func make(prompt: String, seed: UInt64, width: Int, height: Int) -> RGBImage {
        var random = SeededRandom(text: prompt, seed: seed)
        let hue = random.unit()
        let top = color(hue: hue, saturation: 0.55, value: 0.35 + 0.3 * random.unit())
        let bottom = color(hue: (hue + 0.08 + 0.2 * random.unit()).truncatingRemainder(dividingBy: 1), saturation: 0.6, value: 0.85)
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        let horizon = 0.55 + 0.2 * random.unit()
        for y in 0..<height {
            let t = Double(y) / Double(max(1, height - 1))
            let band = t > horizon ? 0.65 : 1.0
            let r = UInt8((top.0 + (bottom.0 - top.0) * t) * band * 255)
            let g = UInt8((top.1 + (bottom.1 - top.1) * t) * band * 255)
            let b = UInt8((top.2 + (bottom.2 - top.2) * t) * band * 255)
            for x in 0..<width {
                let i = (y * width + x) * 3
                pixels[i] = r
                pixels[i + 1] = g
                pixels[i + 2] = b
            }
        }
        let shapes = 3 + Int(random.next() % 4)
        for _ in 0..<shapes {
            let c = color(hue: (hue + 0.5 * random.unit()).truncatingRemainder(dividingBy: 1), saturation: 0.7, value: 0.95)
            let cx = random.unit() * Double(width)
            let cy = random.unit() * Double(height)
            let radius = (0.08 + 0.18 * random.unit()) * Double(min(width, height))
            let isDisc = random.next() % 2 == 0
            let alpha = 0.35 + 0.4 * random.unit()
            let x0 = max(0, Int(cx - radius)), x1 = min(width - 1, Int(cx + radius))
            let y0 = max(0, Int(cy - radius)), y1 = min(height - 1, Int(cy + radius))
            guard x0 <= x1, y0 <= y1 else { continue }
            for y in y0...y1 {
                for x in x0...x1 {
                    let dx = Double(x) - cx, dy = Double(y) - cy
                    let edge = isDisc ? (dx * dx + dy * dy).squareRoot() / radius : max(abs(dx), abs(dy) * 1.6) / radius
                    guard edge < 1 else { continue }
                    let a = alpha * min(1, (1 - edge) * 6)
                    let i = (y * width + x) * 3
                    pixels[i] = mix(pixels[i], c.0, a)
                    pixels[i + 1] = mix(pixels[i + 1], c.1, a)
                    pixels[i + 2] = mix(pixels[i + 2], c.2, a)
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// `picture` laid over `base` at `weight` (0...1). Both must be the same size.
    static func blend(_ picture: RGBImage, over base: RGBImage, weight: Double) -> RGBImage {
        var out = base
        for i in 0..<out.pixels.count { out.pixels[i] = mix(base.pixels[i], Double(picture.pixels[i]) / 255, weight) }
        return out
    }

    private static func mix(_ value: UInt8, _ target: Double, _ alpha: Double) -> UInt8 {
        UInt8(min(255, max(0, (Double(value) * (1 - alpha) + target * 255 * alpha).rounded())))
    }

    private static func color(hue: Double, saturation s: Double, value v: Double) -> (Double, Double, Double) {
        let h = hue * 6
        let f = h - h.rounded(.down)
        let p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f))
        switch Int(h) % 6 {
        case 0: return (v, t, p)
        case 1: return (q, v, p)
        case 2: return (p, v, t)
        case 3: return (p, q, v)
        case 4: return (t, p, v)
        default: return (v, p, q)
        }
    }
}
