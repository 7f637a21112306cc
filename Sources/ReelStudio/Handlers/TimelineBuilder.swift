import Foundation
import ReelCore
import ReelRender

/// The first cut `render.edit` makes of a project: the scenes' clips in order with short
/// crossfades, the title over the opening, the voiceover from half a second in, the music bed
/// under everything (faded, ducked under the voice) and the whoosh on each transition. The
/// output takes the clips' own size and rate, so they need no normalising; the clips' own sound
/// is muted, since the narration and the music make the soundtrack.
struct TimelineBuilder {
    /// An asset as the timeline names it.
    struct Part: Sendable {
        var id: String
        var storageKey: String
        var facts: TimelineAsset
        var seconds: Double { facts.durationSeconds ?? 5 }
    }

    var title: String?
    var clips: [Part]
    var voice: Part?
    var music: Part?
    var effect: Part?
    /// The first clip, probed: the output's size and frame rate.
    var shape: MediaFacts
    var transitions = true

    static let crossfade = 0.5

    var timeline: Timeline {
        var output = TimelineOutput()
        if let width = shape.width, let height = shape.height, width >= 16, height >= 16 {
            output.width = width & ~1
            output.height = height & ~1
        }
        if let fps = shape.videoStream?.framesPerSecond, (1...120).contains(fps) { output.fps = (fps * 1000).rounded() / 1000 }
        var video = clips.enumerated().map { n, clip in
            TimelineClip(id: "scene-\(n + 1)", asset: clip.id, in: 0, out: clip.seconds, volume: 0)
        }
        if transitions {
            for n in video.indices.dropLast() where video[n].duration >= 3 * Self.crossfade && video[n + 1].duration >= 3 * Self.crossfade {
                video[n].transition = Transition(type: .fade, duration: Self.crossfade)
            }
        }
        var timeline = Timeline(name: title, video: video, output: output)
        let film = timeline.duration
        if let title, !title.isEmpty, film >= 2 {
            let end = min(3, film - 0.5)
            timeline.overlays = [TextOverlay(
                id: "title", text: String(title.prefix(80)), font: "DejaVu Sans Bold", size: max(16, output.height / 12),
                color: "#ffffff", box: TextBox(color: "#00000080", padding: max(6, output.height / 48)),
                x: 0.5, y: 0.5, start: 0, end: end, fade: min(0.5, end / 4))]
        }
        if let voice, film > 1 {
            timeline.audio.voice = [AudioClip(id: "voiceover", asset: voice.id, at: 0.5)]
        }
        if let music {
            timeline.audio.music = MusicBed(
                asset: music.id, volume: 0.6, fadeIn: min(1, film / 4), fadeOut: min(2, film / 4), ducking: Ducking())
        }
        if let effect {
            let layout = timeline.layout
            timeline.audio.effects = video.indices.dropFirst().compactMap { n -> AudioClip? in
                let frames = layout.incomingFrames(n)
                guard frames > 0 else { return nil }
                // The whoosh peaks about a third of the way in; let that land on the middle of the crossfade.
                let at = max(0, layout.seconds(layout.startFrames[n] + frames / 2) - min(0.6, effect.seconds / 3))
                return AudioClip(id: "whoosh-\(n)", asset: effect.id, at: at, volume: 0.5)
            }
        }
        return timeline
    }
}
