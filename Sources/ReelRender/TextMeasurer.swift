import CFreeType
import Foundation

/// Measures text in one font file the way libavfilter's drawtext lays it out, so that
/// `TextLayout` fits exactly what drawtext then draws.
///
/// drawtext (FFmpeg 5.1, which reeld builds against) loads each code point with
/// `FT_LOAD_DEFAULT` at `FT_Set_Pixel_Sizes(0, fontsize)`, renders it to a bitmap, advances the
/// pen by whole pixels, and kerns with `FT_Get_Kerning` — passing code points where FreeType
/// expects glyph indices, so its kerning is not the font's. The same steps here, that quirk
/// included, give the same widths; the box and line heights come from the same bitmaps.
///
/// Not thread-safe: one measurer per fitting.
final class TextMeasurer {
    /// One glyph as drawtext keeps it: the pen's advance and the bitmap's box, in pixels
    /// (x from the pen, y up from the baseline).
    struct Glyph {
        var advance = 0
        var xMin = 0, xMax = 0, yMin = 0, yMax = 0
        var hasInk: Bool { xMax > xMin && yMax > yMin }
    }

    /// Text laid out as drawtext does (`draw_text` in vf_drawtext.c).
    struct Block: Hashable {
        /// Each line's width: where the pen ends (drawtext's `tw` is the widest).
        var lineWidths: [Int]
        /// Leftmost and rightmost inked pixel over all lines, relative to the block's left edge.
        var inkLeft: Int
        var inkRight: Int
        /// drawtext's `max_glyph_h`: the distance between lines, from the tallest glyph top to the
        /// lowest glyph bottom among all the text's code points (line breaks included).
        var lineHeight: Int
        /// drawtext's `max_glyph_a`: from a line's top to its baseline.
        var ascent: Int

        /// drawtext's `tw`.
        var width: Int { lineWidths.max() ?? 0 }
        /// drawtext's `th`.
        var height: Int { lineWidths.count * lineHeight }
        /// Pixels the text covers across, ink overhanging the pen included.
        var extent: Int { max(width, inkRight) - min(0, inkLeft) }
    }

    let fontFile: String
    private var library: FT_Library?
    private var face: FT_Face?
    private let kerning: Bool
    private(set) var size = 0
    private var glyphs: [UInt32: Glyph] = [:]

    /// - Throws: `MediaError` when FreeType cannot open `fontFile`.
    init(fontFile: String) throws(MediaError) {
        self.fontFile = fontFile
        var library: FT_Library?
        guard FT_Init_FreeType(&library) == 0, let library else {
            throw MediaError(.open, path: fontFile, message: "FreeType cannot start")
        }
        var face: FT_Face?
        guard FT_New_Face(library, fontFile, 0, &face) == 0, let face else {
            FT_Done_FreeType(library)
            throw MediaError(.open, path: fontFile, message: "FreeType cannot open the font")
        }
        self.library = library
        self.face = face
        kerning = reel_ft_has_kerning(face) != 0
    }

    deinit {
        if let face { FT_Done_Face(face) }
        if let library { FT_Done_FreeType(library) }
    }

    /// Measures at `pixels` (drawtext's `fontsize`) from now on.
    func setSize(_ pixels: Int) {
        guard pixels != size, let face else { return }
        FT_Set_Pixel_Sizes(face, 0, FT_UInt(max(1, pixels)))
        size = pixels
        glyphs = [:]
    }

    /// Lays `text` out as drawtext would at the current size: lines split at `\n`, `\r`, `\f`, `\v`.
    func layout(_ text: String) -> Block {
        let codes = text.unicodeScalars.map(\.value)
        // drawtext's first pass loads every code point, the line breaks too, and takes the
        // line height from all of them.
        var yMin = 32000, yMax = -32000
        for code in codes {
            let glyph = self.glyph(code)
            yMin = min(yMin, glyph.yMin)
            yMax = max(yMax, glyph.yMax)
        }
        var widths: [Int] = []
        var inkLeft = Int.max, inkRight = Int.min
        var x = 0
        var previous: UInt32?
        var previousCode: UInt32 = 0
        for code in codes {
            if previousCode == 0x0D, code == 0x0A { continue }
            previousCode = code
            if code == 0x0A || code == 0x0D || code == 0x0C || code == 0x0B {
                widths.append(x)
                x = 0
                // The previous glyph stays: drawtext kerns a line's first glyph against the last line's last.
                continue
            }
            let glyph = self.glyph(code)
            if kerning, let previous, code != 0, let face {
                var delta = FT_Vector()
                FT_Get_Kerning(face, FT_UInt(previous), FT_UInt(code), FT_UInt(FT_KERNING_DEFAULT.rawValue), &delta)
                x += Int(delta.x >> 6)
            }
            previous = code
            if glyph.hasInk {
                inkLeft = min(inkLeft, x + glyph.xMin)
                inkRight = max(inkRight, x + glyph.xMax)
            }
            x += glyph.advance
        }
        widths.append(x)
        return Block(
            lineWidths: widths, inkLeft: inkLeft == .max ? 0 : inkLeft, inkRight: inkRight == .min ? 0 : inkRight,
            lineHeight: codes.isEmpty ? 0 : yMax - yMin, ascent: codes.isEmpty ? 0 : yMax)
    }

    private func glyph(_ code: UInt32) -> Glyph {
        if let known = glyphs[code] { return known }
        var measured = Glyph()
        if let face, FT_Load_Char(face, FT_ULong(code), FT_Int32(FT_LOAD_DEFAULT)) == 0, let slot = face.pointee.glyph {
            measured.advance = Int(slot.pointee.advance.x >> 6)
            var glyph: FT_Glyph?
            if FT_Get_Glyph(slot, &glyph) == 0 {
                if FT_Glyph_To_Bitmap(&glyph, FT_RENDER_MODE_NORMAL, nil, 1) == 0 {
                    var box = FT_BBox()
                    FT_Glyph_Get_CBox(glyph, FT_UInt(FT_GLYPH_BBOX_PIXELS.rawValue), &box)
                    measured.xMin = Int(box.xMin)
                    measured.xMax = Int(box.xMax)
                    measured.yMin = Int(box.yMin)
                    measured.yMax = Int(box.yMax)
                }
                FT_Done_Glyph(glyph)
            }
        }
        glyphs[code] = measured
        return measured
    }
}
