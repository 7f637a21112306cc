/// The size to ask an image model for, from a requested width and height. Each model family
/// takes its own sizes (OpenAI's API reference):
/// - GPT Image 1 / 1.5 / mini: square, landscape 3:2 and portrait 2:3 only (or `auto`);
/// - GPT Image 2: any width and height in multiples of 16, aspect ratio from 1:3 to 3:1, at most
///   3840 on the long edge and 3840x2160 in pixels;
/// - DALL·E 3: 1024x1024, 1792x1024, 1024x1792; DALL·E 2: squares of 256, 512 or 1024.
/// `nil` means: send no size, the model's default applies.
enum OpenAIImageSize {
    static let square = "1024x1024"
    static let landscape = "1536x1024"
    static let portrait = "1024x1536"

    static func size(model: String, width: Int?, height: Int?) -> String? {
        let lowered = model.lowercased()
        guard let width, let height, width > 0, height > 0 else {
            return lowered.hasPrefix("dall-e") ? nil : "auto"
        }
        if lowered.hasPrefix("gpt-image-2") { return free(width: width, height: height) }
        if lowered.hasPrefix("dall-e-3") {
            return byRatio(width, height, square: "1024x1024", landscape: "1792x1024", portrait: "1024x1792", boundary: (1.75).squareRoot())
        }
        if lowered.hasPrefix("dall-e-2") {
            // Squares only: the smallest that is not smaller than the request.
            let side = max(width, height)
            return side <= 256 ? "256x256" : side <= 512 ? "512x512" : "1024x1024"
        }
        // Halfway, in ratio terms, between 1:1 and 3:2 is √1.5 ≈ 1.22.
        return byRatio(width, height, square: square, landscape: landscape, portrait: portrait, boundary: 1.5.squareRoot())
    }

    private static func byRatio(_ width: Int, _ height: Int, square: String, landscape: String, portrait: String, boundary: Double) -> String {
        let ratio = Double(width) / Double(height)
        if ratio >= boundary { return landscape }
        if ratio <= 1 / boundary { return portrait }
        return square
    }

    static let freeMaxEdge = 3840
    static let freeMaxPixels = 3840 * 2160
    /// Below this GPT Image 2 is reported to refuse sizes (not in the API reference): a request
    /// for a small image gets the smallest accepted one of the same shape.
    static let freeMinPixels = 655_360

    /// GPT Image 2: the requested shape (ratio clamped to 1:3…3:1), scaled into the pixel
    /// limits, each side a multiple of 16.
    static func free(width: Int, height: Int) -> String {
        var w = Double(width), h = Double(height)
        if w / h > 3 { h = w / 3 }
        if h / w > 3 { w = h / 3 }
        var scale = 1.0
        scale = min(scale, Double(freeMaxEdge) / max(w, h))
        scale = min(scale, (Double(freeMaxPixels) / (w * h)).squareRoot())
        if w * h * scale * scale < Double(freeMinPixels) { scale = (Double(freeMinPixels) / (w * h)).squareRoot() }
        w *= scale
        h *= scale
        // Multiples of 16, rounded down when rounding up would break a maximum, up when
        // rounding down would fall under the minimum.
        var sw = Int((w / 16).rounded()) * 16, sh = Int((h / 16).rounded()) * 16
        while sw > 3 * sh { sw -= 16 }
        while sh > 3 * sw { sh -= 16 }
        while sw > freeMaxEdge || sh > freeMaxEdge || sw * sh > freeMaxPixels {
            if sw >= sh { sw -= 16 } else { sh -= 16 }
        }
        while sw * sh < freeMinPixels {
            if sw <= sh { sw += 16 } else { sh += 16 }
        }
        return "\(max(16, sw))x\(max(16, sh))"
    }
}
