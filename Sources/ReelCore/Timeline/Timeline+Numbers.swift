extension Timeline {
    /// The longest time any value of a timeline may name (a film, an in or out point, a start):
    /// a day. Far past any film, and far below where a time in frames stops fitting an integer.
    public static let maxSeconds = 86_400.0

    /// Every number of the timeline that must be finite and within ±`maxSeconds`: NaN, an
    /// infinity or a huge value is refused before anything computes frames from it.
    func numberProblems() -> [TimelineProblem] {
        var found: [TimelineProblem] = []
        func check(_ value: Double, _ element: String) {
            if !value.isFinite || abs(value) > Self.maxSeconds {
                found.append(TimelineProblem(element: element, message: "\(value) is not a usable number (finite, at most \(Int(Self.maxSeconds)))"))
            }
        }
        for (i, clip) in video.enumerated() {
            let element = "video[\(i)]"
            check(clip.inPoint, element + ".in")
            check(clip.outPoint, element + ".out")
            check(clip.volume, element + ".volume")
            if let transition = clip.transition { check(transition.duration, element + ".transition.duration") }
        }
        for (i, overlay) in overlays.enumerated() {
            let element = "overlays[\(i)]"
            for (value, field) in [(overlay.x, "x"), (overlay.y, "y"), (overlay.start, "start"), (overlay.end, "end"), (overlay.fade, "fade")] {
                check(value, "\(element).\(field)")
            }
        }
        for (track, clips) in [("voice", audio.voice), ("effects", audio.effects)] {
            for (i, clip) in clips.enumerated() {
                let element = "audio.\(track)[\(i)]"
                check(clip.at, element + ".at")
                check(clip.inPoint, element + ".in")
                if let out = clip.outPoint { check(out, element + ".out") }
                check(clip.volume, element + ".volume")
            }
        }
        if let music = audio.music {
            for (value, field) in [(music.at, "at"), (music.inPoint, "in"), (music.volume, "volume"), (music.fadeIn, "fade_in"), (music.fadeOut, "fade_out")] {
                check(value, "audio.music.\(field)")
            }
            if let out = music.outPoint { check(out, "audio.music.out") }
            if let ducking = music.ducking {
                for (value, field) in [(ducking.depthDB, "depth_db"), (ducking.attack, "attack"), (ducking.release, "release")] {
                    check(value, "audio.music.ducking.\(field)")
                }
            }
        }
        check(output.fps, "output.fps")
        if let loudness = output.loudness { check(loudness, "output.loudness") }
        return found
    }
}
