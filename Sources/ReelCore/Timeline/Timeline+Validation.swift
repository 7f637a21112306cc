import Foundation

extension Timeline {
    /// Checks everything that can be checked before rendering, against the assets the timeline
    /// names (`assets` by id), and throws every problem found, each naming its element.
    public func validate(assets: [String: TimelineAsset]) throws(TimelineInvalid) {
        let problems = problems(assets: assets)
        if !problems.isEmpty { throw TimelineInvalid(problems) }
    }

    /// The problems `validate(assets:)` would throw.
    public func problems(assets: [String: TimelineAsset]) -> [TimelineProblem] {
        var found: [TimelineProblem] = []
        func fail(_ element: String, _ message: String) { found.append(TimelineProblem(element: element, message: message)) }

        // Frames are counted from these numbers: a NaN or a huge value is refused before that.
        let numbers = numberProblems()
        if !numbers.isEmpty { return numbers }
        // A timeline too big to render is refused on its counts alone, before each element is looked at.
        let limits = limitProblems()
        if !limits.isEmpty { return limits }
        if version != Self.currentVersion { fail("version", "must be \(Self.currentVersion), not \(version)") }
        checkOutput(fail)
        guard output.fps > 0 else { return found }
        let frame = 1 / output.fps
        if video.isEmpty { fail("video", "needs at least one clip") }
        let layout = self.layout
        var ids: Set<String> = []

        for (i, clip) in video.enumerated() {
            let element = "video[\(i)] \"\(clip.id)\""
            checkID(clip.id, element: element, seen: &ids, fail)
            if let asset = lookUp(clip.asset, in: assets, element: element, needs: .video, fail) {
                checkSpan(in: clip.inPoint, out: clip.outPoint, asset: asset, assetName: clip.asset, element: element, frame: frame, fail)
            } else if clip.inPoint < 0 || clip.outPoint <= clip.inPoint {
                fail(element, "needs 0 ≤ in < out, has in \(formatNumber(clip.inPoint)) and out \(formatNumber(clip.outPoint))")
            }
            if layout.clipFrames[i] < 1 { fail(element, "is shorter than one frame at \(formatNumber(output.fps)) fps") }
            if !(0...4).contains(clip.volume) { fail(element, "volume must be 0–4, not \(formatNumber(clip.volume))") }
            guard let transition = clip.transition else { continue }
            if i == video.count - 1 {
                fail(element, "is the last clip, so it has no next clip to transition into")
                continue
            }
            if layout.transitionFrames[i] < 1 {
                fail(element, "transition of \(formatNumber(transition.duration)) s is shorter than one frame")
            }
            let next = video[i + 1]
            if transition.duration > clip.duration + frame / 2 {
                fail(element, "transition of \(formatNumber(transition.duration)) s is longer than the clip (\(formatNumber(clip.duration)) s)")
            } else if transition.duration > next.duration + frame / 2 {
                fail(element, "transition of \(formatNumber(transition.duration)) s is longer than the next clip \"\(next.id)\" (\(formatNumber(next.duration)) s)")
            }
            let incoming = i > 0 ? (video[i - 1].transition?.duration ?? 0) : 0
            if incoming + transition.duration > clip.duration + frame / 2 && transition.duration <= clip.duration {
                fail(element, "transitions in (\(formatNumber(incoming)) s) and out (\(formatNumber(transition.duration)) s) overlap within the clip (\(formatNumber(clip.duration)) s)")
            }
        }

        let film = layout.duration
        if film > MediaLimits.filmSeconds {
            fail("video", "the film lasts \(formatNumber(film)) s, longer than the \(formatNumber(MediaLimits.filmSeconds)) s (4 h) a render may make")
        }
        for (i, overlay) in overlays.enumerated() {
            let element = "overlays[\(i)] \"\(overlay.id)\""
            checkID(overlay.id, element: element, seen: &ids, fail)
            if overlay.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { fail(element, "text is empty") }
            if overlay.text.count > 500 { fail(element, "text is longer than 500 characters") }
            if overlay.font.isEmpty { fail(element, "font is empty") }
            if !(4...1000).contains(overlay.size) { fail(element, "size must be 4–1000 pixels, not \(overlay.size)") }
            if !Self.isColor(overlay.color) { fail(element, "color \"\(overlay.color)\" is not #rrggbb or #rrggbbaa") }
            if let box = overlay.box {
                if !Self.isColor(box.color) { fail(element, "box color \"\(box.color)\" is not #rrggbb or #rrggbbaa") }
                if !(0...500).contains(box.padding) { fail(element, "box padding must be 0–500 pixels, not \(box.padding)") }
            }
            if !(0...1).contains(overlay.x) || !(0...1).contains(overlay.y) {
                fail(element, "x and y are fractions of the frame, 0–1; has \(formatNumber(overlay.x)), \(formatNumber(overlay.y))")
            }
            if overlay.start < 0 || overlay.end <= overlay.start {
                fail(element, "needs 0 ≤ start < end, has start \(formatNumber(overlay.start)) and end \(formatNumber(overlay.end))")
            } else if overlay.end > film + frame / 2 {
                fail(element, "ends at \(formatNumber(overlay.end)) s, past the end of the film (\(formatNumber(film)) s)")
            }
            if overlay.fade < 0 || 2 * overlay.fade > overlay.end - overlay.start + 1e-9 {
                fail(element, "fade of \(formatNumber(overlay.fade)) s must be ≥ 0 and fit twice into its \(formatNumber(overlay.end - overlay.start)) s")
            }
        }

        for (track, clips) in [("audio.voice", audio.voice), ("audio.effects", audio.effects)] {
            for (i, sound) in clips.enumerated() {
                let element = "\(track)[\(i)] \"\(sound.id)\""
                checkID(sound.id, element: element, seen: &ids, fail)
                checkPlacement(at: sound.at, film: film, element: element, fail)
                checkVolume(sound.volume, element: element, fail)
                if let asset = lookUp(sound.asset, in: assets, element: element, needs: .audio, fail) {
                    checkAudioSpan(in: sound.inPoint, out: sound.outPoint, asset: asset, assetName: sound.asset, element: element, frame: frame, fail)
                }
            }
        }
        if let music = audio.music {
            let element = "audio.music"
            checkPlacement(at: music.at, film: film, element: element, fail)
            checkVolume(music.volume, element: element, fail)
            if let asset = lookUp(music.asset, in: assets, element: element, needs: .audio, fail) {
                checkAudioSpan(in: music.inPoint, out: music.outPoint, asset: asset, assetName: music.asset, element: element, frame: frame, fail)
            }
            if !(0...60).contains(music.fadeIn) || !(0...60).contains(music.fadeOut) {
                fail(element, "fade_in and fade_out must be 0–60 s")
            }
            if let ducking = music.ducking {
                if !(0...60).contains(ducking.depthDB) { fail(element, "ducking depth_db must be 0–60, not \(formatNumber(ducking.depthDB))") }
                if !(0...10).contains(ducking.attack) || !(0...10).contains(ducking.release) {
                    fail(element, "ducking attack and release must be 0–10 s")
                }
            }
        }
        return found
    }

    /// The counts past `MediaLimits`: what makes a timeline too big to render, whatever its
    /// elements hold. Cheap (it looks at counts only), so callers check it before loading anything
    /// a timeline names.
    public func limitProblems() -> [TimelineProblem] {
        var found: [TimelineProblem] = []
        if video.count > MediaLimits.clips {
            found.append(TimelineProblem(element: "video", message: "has \(video.count) clips, more than the \(MediaLimits.clips) a render may take"))
        }
        if overlays.count > MediaLimits.overlays {
            found.append(TimelineProblem(element: "overlays", message: "has \(overlays.count) overlays, more than the \(MediaLimits.overlays) a render may take"))
        }
        let sounds = audio.voice.count + audio.effects.count
        if sounds > MediaLimits.sounds {
            found.append(TimelineProblem(
                element: "audio", message: "has \(sounds) voice lines and effects, more than the \(MediaLimits.sounds) a render may take"))
        }
        return found
    }

    private enum Needs { case video, audio }

    private func checkOutput(_ fail: (String, String) -> Void) {
        let o = output
        if o.width % 2 != 0 || o.height % 2 != 0 || !(16...7680).contains(o.width) || !(16...4320).contains(o.height) {
            fail("output", "size \(o.width)x\(o.height) must be even, 16–7680 wide and 16–4320 high")
        }
        let pixels = o.width.multipliedReportingOverflow(by: o.height)
        if o.width > 0, o.height > 0, pixels.overflow || pixels.partialValue > MediaLimits.outputPixels {
            fail("output", "size \(o.width)x\(o.height) is more than the \(MediaLimits.outputPixels) pixels a frame (4096x2160) a render may make")
        }
        if !(1...120).contains(o.fps) { fail("output.fps", "must be 1–120, not \(formatNumber(o.fps))") }
        if let q = o.quality, !o.format.qualityRange.contains(q) {
            fail("output.quality", "must be \(o.format.qualityRange.lowerBound)–\(o.format.qualityRange.upperBound) for \(o.format.rawValue), not \(q)")
        }
        if !TimelineOutput.presets.contains(o.preset) {
            fail("output.preset", "unknown preset \"\(o.preset)\"; expected one of " + TimelineOutput.presets.joined(separator: ", "))
        }
        if let bitrate = o.audioBitrate, !(32_000...512_000).contains(bitrate) {
            fail("output.audio_bitrate", "must be 32000–512000 bits per second, not \(bitrate)")
        }
        if let lufs = o.loudness, !(-70 ... -5).contains(lufs) {
            fail("output.loudness", "must be −70 to −5 LUFS (or null for none), not \(formatNumber(lufs))")
        }
    }

    private func checkID(_ id: String, element: String, seen: inout Set<String>, _ fail: (String, String) -> Void) {
        if id.isEmpty { fail(element, "id is empty") }
        else if !seen.insert(id).inserted { fail(element, "id \"\(id)\" is used twice") }
    }

    private func lookUp(
        _ name: String, in assets: [String: TimelineAsset], element: String, needs: Needs, _ fail: (String, String) -> Void
    ) -> TimelineAsset? {
        guard let asset = assets[name] else {
            fail(element, "asset \"\(name)\" is missing")
            return nil
        }
        if let reason = asset.unreadable {
            fail(element, "asset \"\(name)\" cannot be read: \(reason)")
            return nil
        }
        switch needs {
        case .video where !asset.hasVideo:
            fail(element, "asset \"\(name)\" has no video")
            return nil
        case .audio where !asset.hasAudio:
            fail(element, "asset \"\(name)\" has no audio")
            return nil
        default:
            return asset
        }
    }

    private func checkSpan(
        in inPoint: Double, out outPoint: Double, asset: TimelineAsset, assetName: String, element: String, frame: Double,
        _ fail: (String, String) -> Void
    ) {
        if inPoint < 0 || outPoint <= inPoint {
            fail(element, "needs 0 ≤ in < out, has in \(formatNumber(inPoint)) and out \(formatNumber(outPoint))")
        } else if let length = asset.durationSeconds, outPoint > length + frame {
            fail(element, "out point \(formatNumber(outPoint)) s is past the end of asset \"\(assetName)\" (\(formatNumber(length)) s)")
        }
    }

    private func checkAudioSpan(
        in inPoint: Double, out outPoint: Double?, asset: TimelineAsset, assetName: String, element: String, frame: Double,
        _ fail: (String, String) -> Void
    ) {
        if inPoint < 0 || (outPoint.map { $0 <= inPoint } ?? false) {
            fail(element, "needs 0 ≤ in < out, has in \(formatNumber(inPoint)) and out \(outPoint.map(formatNumber) ?? "null")")
        } else if let length = asset.durationSeconds {
            if inPoint >= length { fail(element, "in point \(formatNumber(inPoint)) s is past the end of asset \"\(assetName)\" (\(formatNumber(length)) s)") }
            if let outPoint, outPoint > length + frame {
                fail(element, "out point \(formatNumber(outPoint)) s is past the end of asset \"\(assetName)\" (\(formatNumber(length)) s)")
            }
        }
    }

    private func checkPlacement(at: Double, film: Double, element: String, _ fail: (String, String) -> Void) {
        if at < 0 { fail(element, "at must be ≥ 0, not \(formatNumber(at))") }
        else if at >= film && film > 0 { fail(element, "starts at \(formatNumber(at)) s, at or past the end of the film (\(formatNumber(film)) s)") }
    }

    private func checkVolume(_ volume: Double, element: String, _ fail: (String, String) -> Void) {
        if !(0...4).contains(volume) { fail(element, "volume must be 0–4, not \(formatNumber(volume))") }
    }

    /// `#rrggbb` or `#rrggbbaa`.
    static func isColor(_ text: String) -> Bool {
        let hex = text.utf8.dropFirst()
        return text.hasPrefix("#") && (hex.count == 6 || hex.count == 8)
            && hex.allSatisfy { (48...57).contains($0) || (97...102).contains($0) || (65...70).contains($0) }
    }
}

/// Seconds for messages: up to three decimals, no trailing zeros.
func formatNumber(_ seconds: Double) -> String {
    var text = String(format: "%.3f", seconds)
    while text.hasSuffix("0") { text.removeLast() }
    if text.hasSuffix(".") { text.removeLast() }
    return text
}
