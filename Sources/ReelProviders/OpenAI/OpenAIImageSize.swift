/// The sizes GPT Image accepts, chosen from a requested width and height by aspect ratio: the
/// API takes only square, landscape 3:2 and portrait 2:3 (or `auto`), not arbitrary sizes.
enum OpenAIImageSize {
    static let square = "1024x1024"
    static let landscape = "1536x1024"
    static let portrait = "1024x1536"

    static func size(width: Int?, height: Int?) -> String {
        guard let width, let height, width > 0, height > 0 else { return "auto" }
        let ratio = Double(width) / Double(height)
        // Halfway, in ratio terms, between 1:1 and 3:2 is √1.5 ≈ 1.22.
        let boundary = 1.5.squareRoot()
        if ratio >= boundary { return landscape }
        if ratio <= 1 / boundary { return portrait }
        return square
    }
}
