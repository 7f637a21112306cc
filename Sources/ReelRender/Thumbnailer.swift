import Foundation
import ReelCore

/// Still pictures of a rendered film: JPEGs at chosen times, a representative frame per clip,
/// and the storyboard contact sheet of each scene's first frame.
public enum Thumbnailer {
    /// Writes a JPEG of `film` at each of `times` into `directory` as `<prefix>-<n>.jpg` (n from 1)
    /// and returns the files, in order.
    public static func writeJPEGs(of film: URL, at times: [Double], width: Int? = nil, to directory: URL, prefix: String = "thumb") throws -> [URL] {
        let images = try FrameGrabber.images(of: film, at: times, width: width)
        return try images.enumerated().map { n, image in
            let url = directory.appendingPathComponent("\(prefix)-\(n + 1).jpg")
            try ImageIO.writeJPEG(image, to: url)
            return url
        }
    }

    /// One time per clip, in the middle of the part where the clip plays alone (clear of transitions).
    public static func representativeTimes(of timeline: Timeline) -> [Double] {
        let layout = timeline.layout
        return timeline.video.indices.map { i in
            let from = layout.startFrames[i] + layout.incomingFrames(i)
            let to = layout.startFrames[i] + layout.clipFrames[i] - layout.transitionFrames[i]
            return layout.seconds((from + to) / 2)
        }
    }

    /// One time per clip: its first frame clear of the transition into it.
    public static func sceneStartTimes(of timeline: Timeline) -> [Double] {
        let layout = timeline.layout
        return timeline.video.indices.map { layout.seconds(layout.startFrames[$0] + layout.incomingFrames($0)) }
    }

    /// The storyboard of `film`: each scene's first frame, `tileWidth` wide, numbered, in a grid PNG.
    public static func writeStoryboard(of film: URL, timeline: Timeline, tileWidth: Int = 320, columns: Int = 4, to url: URL) throws {
        let height = max(2, Int((Double(tileWidth) * Double(timeline.output.height) / Double(timeline.output.width)).rounded()) & ~1)
        let pictures = try FrameGrabber.images(of: film, at: sceneStartTimes(of: timeline), width: tileWidth, height: height)
        try StoryboardSheet.write(pictures, columns: columns, to: url)
    }
}
