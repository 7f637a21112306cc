/// Where each clip sits in the film, counted in whole output frames so that the renderer, the
/// validator and the OTIO export agree to the frame.
///
/// A transition overlaps two clips: clip `i + 1` starts `transition` frames before clip `i` ends,
/// so the film is the sum of the clips less the sum of the transitions.
public struct TimelineLayout: Sendable, Hashable {
    public let fps: Double
    /// Frames each clip contributes, before overlaps.
    public let clipFrames: [Int]
    /// Frames of the transition from clip `i` into clip `i + 1` (0 for a cut, and for the last clip).
    public let transitionFrames: [Int]
    /// The film frame where each clip starts.
    public let startFrames: [Int]
    public let totalFrames: Int

    public init(_ timeline: Timeline) {
        let fps = timeline.output.fps > 0 && timeline.output.fps <= 1000 ? timeline.output.fps : 30
        self.fps = fps
        let clips = timeline.video
        clipFrames = clips.map { Self.frames($0.duration, fps: fps) }
        transitionFrames = clips.indices.map { i in
            guard i + 1 < clips.count, let t = clips[i].transition else { return 0 }
            return Self.frames(t.duration, fps: fps)
        }
        var starts: [Int] = []
        var position = 0
        for i in clips.indices {
            starts.append(position)
            position += clipFrames[i] - transitionFrames[i]
        }
        startFrames = starts
        totalFrames = position
    }

    /// Whole frames in `seconds`, never trapping: validation refuses what is not finite or too
    /// long, but the layout is computed before it, on whatever the timeline holds.
    static func frames(_ seconds: Double, fps: Double) -> Int {
        let frames = (seconds * fps).rounded()
        guard frames.isFinite, frames > 0 else { return 0 }
        return Int(min(frames, Double(Int32.max)))
    }

    public var duration: Double { Double(totalFrames) / fps }
    public func seconds(_ frames: Int) -> Double { Double(frames) / fps }
    /// Film time where clip `i` starts.
    public func start(_ i: Int) -> Double { seconds(startFrames[i]) }
    /// Frames of the transition into clip `i` from the one before.
    public func incomingFrames(_ i: Int) -> Int { i > 0 ? transitionFrames[i - 1] : 0 }
}

extension Timeline {
    /// The frame layout at the output frame rate.
    public var layout: TimelineLayout { TimelineLayout(self) }
    /// The film's length in seconds.
    public var duration: Double { layout.duration }
}
