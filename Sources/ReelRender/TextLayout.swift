import Foundation
import ReelCore

/// How an overlay's text is drawn so that it fits the frame: wrapped at spaces to the width
/// available, at the overlay's size or, when wrapping is not enough (a word wider than the
/// frame, more lines than fit its height), at the largest smaller size that fits.
///
/// The space available is the frame less a margin of `margin` of its width and height on each
/// side (the title-safe area) and less the box's padding. Widths are measured with the font
/// file drawtext draws with, as drawtext lays text out (`TextMeasurer`), so the same overlay
/// always gives the same layout, and the layout is what is drawn.
public struct TextLayout: Sendable, Hashable {
    /// Share of the frame's width (and height) kept clear at each edge.
    public static let margin = 0.05
    /// Below this size text stops shrinking and long words are broken instead.
    public static let minimumSize = 12

    /// The font size drawn, in pixels: the overlay's, or smaller when it would not fit.
    public var size: Int
    /// The lines, in order; one when the text fits as it is.
    public var lines: [String]
    /// drawtext's `tw` and `th` of all the lines together.
    public var width: Int
    public var height: Int
    /// Distance between baselines, and from the top of the text to the first baseline.
    public var lineHeight: Int
    public var ascent: Int

    /// Fits `overlay` into a frame of `frameWidth` x `frameHeight`, measured with `fontFile`.
    /// - Throws: `MediaError` when FreeType cannot open the font file.
    public static func fit(_ overlay: TextOverlay, fontFile: String, frameWidth: Int, frameHeight: Int) throws(MediaError) -> TextLayout {
        let measurer = try TextMeasurer(fontFile: fontFile)
        let pad = max(0, overlay.box?.padding ?? 0)
        let margins = margins(frameWidth: frameWidth, frameHeight: frameHeight)
        let maxWidth = max(1, frameWidth - 2 * margins.x - 2 * pad)
        let maxHeight = max(1, frameHeight - 2 * margins.y - 2 * pad)
        let paragraphs = paragraphs(of: overlay.text)
        let smallest = min(max(1, overlay.size), minimumSize)
        var size = max(1, overlay.size)
        while true {
            measurer.setSize(size)
            let last = size <= smallest
            if var lines = wrap(paragraphs, width: maxWidth, breakingWords: last, measurer) {
                if lines.count > 1, let balanced = balance(paragraphs, lines: lines.count, width: maxWidth, measurer) { lines = balanced }
                let block = measurer.layout(lines.joined(separator: "\n"))
                if last || (block.extent <= maxWidth && block.height <= maxHeight) {
                    return TextLayout(
                        size: size, lines: lines, width: block.width, height: block.height, lineHeight: block.lineHeight, ascent: block.ascent)
                }
            }
            // About a tenth smaller each step: few steps from any size, and the same steps every time.
            size = max(smallest, min(size - 1, Int(Double(size) * 0.9)))
        }
    }

    /// The clear margins at the left and right, and at the top and bottom, in pixels: text and
    /// box are fitted, and placed, inside them.
    public static func margins(frameWidth: Int, frameHeight: Int) -> (x: Int, y: Int) {
        (Int((Double(frameWidth) * margin).rounded()), Int((Double(frameHeight) * margin).rounded()))
    }

    /// The text's paragraphs (its own line breaks kept), each as its words; tabs and runs of
    /// spaces count as one space, as wrapping rejoins words with one.
    static func paragraphs(of text: String) -> [[String]] {
        let unified = text.replacingOccurrences(of: "\r\n", with: "\n")
        let breaks: Set<Character> = ["\n", "\r", "\u{0B}", "\u{0C}"]
        return unified.split(omittingEmptySubsequences: false) { breaks.contains($0) }.map { paragraph in
            paragraph.split { $0 == " " || $0 == "\t" }.map(String.init)
        }
    }

    /// The same number of lines as greedy wrapping at `width` gives, but as even as they come:
    /// wrapped at the narrowest width that still needs no more lines ("A Lighthouse Keeper /
    /// Befriends A Storm" rather than a last line of one word). Nil when no word fits.
    static func balance(_ paragraphs: [[String]], lines count: Int, width: Int, _ measurer: TextMeasurer) -> [String]? {
        // Greedy wrapping never needs more lines at a greater width, so the narrowest such width is a binary search away.
        var low = 1, high = width
        var best: [String]?
        while low <= high {
            let middle = (low + high) / 2
            if let lines = wrap(paragraphs, width: middle, breakingWords: false, measurer), lines.count <= count {
                best = lines
                high = middle - 1
            } else {
                low = middle + 1
            }
        }
        return best
    }

    /// Greedy wrapping: as many words on a line as fit `width`. Nil when a word alone is wider
    /// and `breakingWords` is false; with it, such a word is cut between characters.
    static func wrap(_ paragraphs: [[String]], width: Int, breakingWords: Bool, _ measurer: TextMeasurer) -> [String]? {
        func fits(_ line: String) -> Bool { measurer.layout(line).extent <= width }
        var lines: [String] = []
        for words in paragraphs {
            var current = ""
            for word in words {
                let candidate = current.isEmpty ? word : current + " " + word
                if fits(candidate) {
                    current = candidate
                    continue
                }
                if !current.isEmpty { lines.append(current) }
                current = word
                if !fits(word) {
                    guard breakingWords else { return nil }
                    var piece = ""
                    for character in word {
                        if !piece.isEmpty, !fits(piece + String(character)) {
                            lines.append(piece)
                            piece = ""
                        }
                        piece.append(character)
                    }
                    current = piece
                }
            }
            lines.append(current)
        }
        return lines
    }
}
