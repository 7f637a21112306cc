import Foundation
import ReelRender
import Testing

@Suite struct ImageIOTests {
    @Test func pngRoundTripsLosslesslyAtItsSize() throws {
        try TestMedia.withTemporaryDirectory { dir in
            let url = dir.appendingPathComponent("still.png")
            try ImageIO.writePNG(TestMedia.warm, to: url)
            let facts = try MediaProbe.probe(url)
            #expect(facts.videoCodec == "png")
            #expect(facts.width == 640 && facts.height == 360)
            let back = try ImageIO.read(url)
            #expect(back == TestMedia.warm)
        }
    }

    @Test func readScalesToRequestedSize() throws {
        try TestMedia.withTemporaryDirectory { dir in
            let url = dir.appendingPathComponent("still.png")
            try ImageIO.writePNG(TestMedia.cool, to: url)
            let small = try ImageIO.read(url, width: 160, height: 90)
            #expect(small.width == 160 && small.height == 90)
            let byWidth = try ImageIO.read(url, width: 320)
            #expect(byWidth.height == 180)
        }
    }

    @Test func jpegIsReadableAndClose() throws {
        try TestMedia.withTemporaryDirectory { dir in
            let url = dir.appendingPathComponent("thumb.jpg")
            try ImageIO.writeJPEG(TestMedia.warm, to: url)
            let facts = try MediaProbe.probe(url)
            #expect(facts.videoCodec == "mjpeg")
            let back = try ImageIO.read(url)
            #expect(back.meanAbsoluteDifference(to: TestMedia.warm) < 4)
        }
    }
}
