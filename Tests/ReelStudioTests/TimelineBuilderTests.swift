import Foundation
import ReelCore
import ReelRender
import Testing

@testable import ReelStudio

@Suite struct TimelineBuilderTests {
    static func part(_ id: String, seconds: Double, video: Bool = true) -> TimelineBuilder.Part {
        TimelineBuilder.Part(id: id, storageKey: "k/\(id)", facts: TimelineAsset(durationSeconds: seconds, hasVideo: video, hasAudio: !video))
    }

    static let shape = MediaFacts(formatName: "mp4", durationSeconds: 5, streams: [
        StreamFacts(index: 0, type: .video, codecName: "h264", width: 640, height: 360, framesPerSecond: 24, pixelFormat: "yuv420p"),
    ])

    @Test func theFirstCutCrossfadesScenesUnderTitleVoiceDuckedMusicAndWhooshes() throws {
        let clips = (1...3).map { Self.part("c\($0)", seconds: 5) }
        let builder = TimelineBuilder(
            title: "The Lighthouse", clips: clips, voice: Self.part("vo", seconds: 9, video: false),
            music: Self.part("m", seconds: 20, video: false), effect: Self.part("fx", seconds: 2, video: false), shape: Self.shape)
        let timeline = builder.timeline
        #expect(timeline.output.width == 640 && timeline.output.height == 360 && timeline.output.fps == 24)
        #expect(timeline.video.map(\.asset) == ["c1", "c2", "c3"])
        #expect(timeline.video.map { $0.transition?.duration } == [0.5, 0.5, nil])
        #expect(timeline.video.allSatisfy { $0.volume == 0 })
        #expect(timeline.duration == 14)
        #expect(timeline.overlays.first?.text == "The Lighthouse" && timeline.overlays.first?.end == 3)
        #expect(timeline.audio.voice.first?.at == 0.5)
        #expect(timeline.audio.music?.ducking != nil)
        #expect(timeline.audio.effects.map(\.id) == ["whoosh-1", "whoosh-2"])
        var catalog: [String: TimelineAsset] = [:]
        for part in clips + [Self.part("vo", seconds: 9, video: false), Self.part("m", seconds: 20, video: false), Self.part("fx", seconds: 2, video: false)] {
            catalog[part.id] = part.facts
        }
        #expect(timeline.problems(assets: catalog).isEmpty)
    }

    @Test func shortClipsGetHardCutsAndAnUpgradedCutHasNone() {
        var builder = TimelineBuilder(
            title: nil, clips: [Self.part("a", seconds: 1), Self.part("b", seconds: 4), Self.part("c", seconds: 4)],
            voice: nil, music: nil, effect: Self.part("fx", seconds: 2, video: false), shape: Self.shape)
        #expect(builder.timeline.video.map { $0.transition != nil } == [false, true, false])
        #expect(builder.timeline.overlays.isEmpty)
        builder.transitions = false
        #expect(builder.timeline.video.allSatisfy { $0.transition == nil })
        #expect(builder.timeline.audio.effects.isEmpty)
    }
}
