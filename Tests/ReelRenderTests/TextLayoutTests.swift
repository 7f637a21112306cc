import Foundation
import ReelCore
@testable import ReelRender
import Testing

@Suite struct TextLayoutTests {
    static let bold = FontCatalog.standard.path(for: "DejaVu Sans Bold")!
    static let title = "A Lighthouse Keeper Befriends A Storm"

    /// The room the text has: the frame less the title-safe margins and the box's padding.
    static func room(width: Int, height: Int, padding: Int) -> (width: Int, height: Int) {
        (width - 2 * Int((Double(width) * TextLayout.margin).rounded()) - 2 * padding,
         height - 2 * Int((Double(height) * TextLayout.margin).rounded()) - 2 * padding)
    }

    @Test func textThatFitsStaysOnOneLineAtItsSize() throws {
        let overlay = TextOverlay(id: "t", text: "The Lighthouse", size: 72, box: TextBox(padding: 18), start: 0, end: 3)
        let layout = try TextLayout.fit(overlay, fontFile: Self.bold, frameWidth: 1280, frameHeight: 720)
        #expect(layout.lines == ["The Lighthouse"])
        #expect(layout.size == 72)
    }

    /// The demo's title at the demo's size (a twelfth of the height) is wider than a 720p frame:
    /// it wraps at spaces and keeps its size.
    @Test func aLongTitleWrapsAtSpacesAndKeepsItsSize() throws {
        let overlay = TextOverlay(id: "title", text: Self.title, size: 60, box: TextBox(padding: 18), start: 0, end: 3)
        let layout = try TextLayout.fit(overlay, fontFile: Self.bold, frameWidth: 1280, frameHeight: 720)
        #expect(layout.size == 60)
        // Balanced, rather than a last line of one word.
        #expect(layout.lines == ["A Lighthouse Keeper", "Befriends A Storm"])
        let room = Self.room(width: 1280, height: 720, padding: 18)
        #expect(layout.width <= room.width)
        #expect(layout.height <= room.height)
        #expect(layout.height == layout.lines.count * layout.lineHeight)
    }

    @Test func aWordWiderThanTheFrameShrinksTheFont() throws {
        let overlay = TextOverlay(id: "t", text: "Supercalifragilisticexpialidocious", size: 120, start: 0, end: 3)
        let layout = try TextLayout.fit(overlay, fontFile: Self.bold, frameWidth: 640, frameHeight: 360)
        #expect(layout.lines == ["Supercalifragilisticexpialidocious"])
        #expect(layout.size < 120)
        #expect(layout.width <= Self.room(width: 640, height: 360, padding: 0).width)
    }

    @Test func moreLinesThanTheHeightHoldsShrinkTheFont() throws {
        let text = Array(repeating: "the storm came early and the lamp must not go dark", count: 4).joined(separator: " ")
        let overlay = TextOverlay(id: "t", text: text, size: 72, box: TextBox(padding: 12), start: 0, end: 3)
        let layout = try TextLayout.fit(overlay, fontFile: Self.bold, frameWidth: 640, frameHeight: 360)
        let room = Self.room(width: 640, height: 360, padding: 12)
        #expect(layout.size < 72)
        #expect(layout.lines.count > 1)
        #expect(layout.height <= room.height)
        #expect(layout.width <= room.width)
        // The next size up would not have fitted (or wrapping would have kept it).
        #expect(layout.lines.joined(separator: " ") == text)
    }

    @Test func theTextsOwnLineBreaksAreKept() throws {
        let overlay = TextOverlay(id: "t", text: "Chapter One\nThe Storm", size: 40, start: 0, end: 3)
        let layout = try TextLayout.fit(overlay, fontFile: Self.bold, frameWidth: 1280, frameHeight: 720)
        #expect(layout.lines == ["Chapter One", "The Storm"])
        #expect(layout.size == 40)
    }

    @Test func theSameOverlayAlwaysFitsTheSameWay() throws {
        let overlay = TextOverlay(id: "t", text: Self.title + ", And The Sea Remembers Every Word", size: 96, start: 0, end: 3)
        let first = try TextLayout.fit(overlay, fontFile: Self.bold, frameWidth: 854, frameHeight: 480)
        let second = try TextLayout.fit(overlay, fontFile: Self.bold, frameWidth: 854, frameHeight: 480)
        #expect(first == second)
    }

    /// The measuring is drawtext's own: a line drawn over black lights exactly the columns
    /// its glyphs' bitmaps cover as measured (give or take a column of faint antialiasing).
    @Test(arguments: ["Lighthouse Keeper", "Befriends A Storm", "jaunty quay, AVA"])
    func whatIsMeasuredIsWhatDrawtextDraws(text: String) throws {
        let measurer = try TextMeasurer(fontFile: Self.bold)
        measurer.setSize(40)
        let block = measurer.layout(text)
        try TestMedia.withTemporaryDirectory { dir in
            let black = try RenderFixtures.clip(RGBImage(width: 64, height: 36, red: 0, green: 0, blue: 0), seconds: 0.2, in: dir, name: "black.mp4", width: 640, height: 360)
            let timeline = Timeline(
                video: [TimelineClip(id: "s1", asset: "black", in: 0, out: 0.2)],
                overlays: [TextOverlay(id: "line", text: text, font: "DejaVu Sans Bold", size: 40, start: 0, end: 0.2)],
                output: TimelineOutput(width: 640, height: 360, fps: 25))
            let film = dir.appendingPathComponent("film.mp4")
            try TimelineRenderer(options: .init(allowStreamCopy: false)).render(timeline, media: ["black": black], to: film)
            let frame = try #require(try FrameGrabber.images(of: film, at: [0.1]).first)
            var columns: [Int] = []
            for x in 0..<frame.width {
                let lit = (0..<frame.height).contains { y in
                    let i = (y * frame.width + x) * 3
                    return max(frame.pixels[i], frame.pixels[i + 1], frame.pixels[i + 2]) > 96
                }
                if lit { columns.append(x) }
            }
            let drawn = try #require(columns.last) - (try #require(columns.first)) + 1
            let measured = block.inkRight - block.inkLeft
            #expect(abs(drawn - measured) <= 2, "drawtext lit \(drawn) columns, measured \(measured)")
        }
    }

    /// What drawtext actually draws: a long title over black, rendered through the full path,
    /// lights no pixel in the frame's outermost rows and columns, and does light the middle.
    @Test(arguments: [0.5, 0.9])
    func noGlyphIsDrawnOutsideTheFrame(y: Double) throws {
        try TestMedia.withTemporaryDirectory { dir in
            let black = try RenderFixtures.clip(RGBImage(width: 64, height: 36, red: 0, green: 0, blue: 0), seconds: 1, in: dir, name: "black.mp4", width: 640, height: 360)
            let overlays = [
                TextOverlay(
                    id: "title", text: Self.title + ", And The Sea Remembers Every Word Of It", font: "DejaVu Sans Bold", size: 64,
                    box: TextBox(color: "#00000099", padding: 16), x: 0.5, y: y, start: 0, end: 1),
                TextOverlay(id: "word", text: "Unbreakablewordthatiswiderthantheframeitself", size: 90, x: 0, y: 1 - y, start: 0, end: 1),
            ]
            let timeline = Timeline(
                video: [TimelineClip(id: "s1", asset: "black", in: 0, out: 1)], overlays: overlays,
                output: TimelineOutput(width: 640, height: 360, fps: 25))
            let film = dir.appendingPathComponent("film.mp4")
            try TimelineRenderer(options: .init(allowStreamCopy: false)).render(timeline, media: ["black": black], to: film)
            let frame = try #require(try FrameGrabber.images(of: film, at: [0.5]).first)
            #expect(frame.width == 640 && frame.height == 360)

            func brightness(_ x: Int, _ y: Int) -> Int {
                let i = (y * frame.width + x) * 3
                return Int(max(frame.pixels[i], frame.pixels[i + 1], frame.pixels[i + 2]))
            }
            var edge: [(Int, Int, Int)] = []
            for x in 0..<frame.width {
                for y in [0, 1, frame.height - 2, frame.height - 1] where brightness(x, y) > 40 { edge.append((x, y, brightness(x, y))) }
            }
            for y in 0..<frame.height {
                for x in [0, 1, frame.width - 2, frame.width - 1] where brightness(x, y) > 40 { edge.append((x, y, brightness(x, y))) }
            }
            #expect(edge.isEmpty, "lit at the frame's edge: \(edge.prefix(10))")
            var lit = 0
            for y in 0..<frame.height {
                for x in 0..<frame.width where brightness(x, y) > 200 { lit += 1 }
            }
            #expect(lit > 2000, "the text drew \(lit) bright pixels")
        }
    }
}
