import Foundation
import ReelCore
import Testing

/// A small cut used across the timeline tests: three 4 s clips, a 1 s fade into the second.
enum Cut {
    static let assets: [String: TimelineAsset] = [
        "a": TimelineAsset(durationSeconds: 6, hasVideo: true, hasAudio: true),
        "b": TimelineAsset(durationSeconds: 6, hasVideo: true, hasAudio: false),
        "voice": TimelineAsset(durationSeconds: 3, hasVideo: false, hasAudio: true),
        "music": TimelineAsset(durationSeconds: 30, hasVideo: false, hasAudio: true),
    ]

    static var timeline: Timeline {
        Timeline(
            name: "cut",
            video: [
                TimelineClip(id: "s1", asset: "a", in: 0, out: 4, transition: Transition(type: .fade, duration: 1)),
                TimelineClip(id: "s2", asset: "b", in: 1, out: 5),
                TimelineClip(id: "s3", asset: "a", in: 2, out: 6),
            ],
            overlays: [TextOverlay(id: "title", text: "Hello", start: 0, end: 3, fade: 0.5)],
            audio: TimelineAudio(voice: [AudioClip(id: "vo", asset: "voice", at: 1)], music: MusicBed(asset: "music", fadeOut: 1)),
            output: TimelineOutput(width: 320, height: 180, fps: 25))
    }
}

@Suite struct TimelineTests {
    @Test func filmIsTheClipsLessTheirOverlapsCountedInFrames() {
        let layout = Cut.timeline.layout
        #expect(layout.clipFrames == [100, 100, 100])
        #expect(layout.transitionFrames == [25, 0, 0])
        #expect(layout.startFrames == [0, 75, 175])
        #expect(layout.totalFrames == 275)
        #expect(Cut.timeline.duration == 11)
    }

    @Test func theDocumentedExampleDecodesAndRoundTrips() throws {
        let json = """
            {"version": 2, "name": "Lighthouse",
             "video": [
               {"id": "s1", "asset": "clip-1", "in": 0, "out": 5, "transition": {"type": "fade", "duration": 0.5}},
               {"id": "s2", "asset": "clip-2", "in": 0.5, "out": 5, "volume": 0}
             ],
             "overlays": [{"id": "title", "text": "The Lighthouse", "font": "DejaVu Sans Bold", "size": 64, "color": "#ffffff",
                           "box": {"color": "#00000099", "padding": 16}, "x": 0.5, "y": 0.8, "start": 0, "end": 3, "fade": 0.5}],
             "audio": {"voice": [{"id": "vo", "asset": "voice", "at": 1}],
                       "music": {"asset": "music", "volume": 0.5, "fade_in": 1, "fade_out": 2,
                                 "ducking": {"depth_db": 12, "attack": 0.2, "release": 0.6}},
                       "effects": [{"id": "whoosh", "asset": "sfx", "at": 4.5, "volume": 0.8}]},
             "output": {"format": "webm", "width": 1280, "height": 720, "fps": 30, "quality": 30, "preset": "veryfast",
                        "audio_bitrate": 128000, "loudness": -16}}
            """
        let timeline = try Timeline(json: Data(json.utf8))
        #expect(timeline.video[0].transition == Transition(type: .fade, duration: 0.5))
        #expect(timeline.video[1].inPoint == 0.5 && timeline.video[1].volume == 0)
        #expect(timeline.overlays[0].box == TextBox(color: "#00000099", padding: 16))
        #expect(timeline.audio.music?.ducking == Ducking(depthDB: 12, attack: 0.2, release: 0.6))
        #expect(timeline.audio.effects[0].at == 4.5)
        #expect(timeline.output.format == .webm && timeline.output.loudness == -16)
        #expect(try Timeline(json: timeline.jsonData) == timeline)
    }

    @Test func defaultsFillWhatIsLeftOut() throws {
        let timeline = try Timeline(json: Data(#"{"version": 2, "video": [{"id": "s1", "asset": "a", "out": 3}]}"#.utf8))
        #expect(timeline.video[0].inPoint == 0 && timeline.video[0].volume == 1 && timeline.video[0].transition == nil)
        #expect(timeline.output == TimelineOutput())
        #expect(timeline.output.loudness == -14 && timeline.output.effectiveQuality == 23 && timeline.output.effectiveAudioBitrate == 192_000)
        let quiet = try Timeline(json: Data(#"{"version": 2, "video": [{"id": "s1", "asset": "a", "out": 3}], "output": {"loudness": null}}"#.utf8))
        #expect(quiet.output.loudness == nil)
        #expect(try Timeline(json: quiet.jsonData).output.loudness == nil)
    }

    @Test func anUnknownKeyIsRefusedNamingWhereItIs() {
        let json = #"{"version": 2, "video": [{"id": "s1", "asset": "a", "out": 3, "transition": {"duration": 1, "kind": "fade"}}]}"#
        let error = #expect(throws: TimelineInvalid.self) { try Timeline(json: Data(json.utf8)) }
        #expect(error?.problems.first?.element == "video[0].transition.kind")
        #expect(error?.problems.first?.message.contains("unknown key") == true)
    }

    @Test func aWrongTypeOrMissingFieldIsRefusedNamingIt() {
        let wrongType = #"{"version": 2, "video": [{"id": "s1", "asset": "a", "out": "three"}]}"#
        let typeError = #expect(throws: TimelineInvalid.self) { try Timeline(json: Data(wrongType.utf8)) }
        #expect(typeError?.problems.first == TimelineProblem(element: "video[0].out", message: "expected a number"))
        let missing = #"{"version": 2, "video": [{"id": "s1", "out": 3}]}"#
        let missingError = #expect(throws: TimelineInvalid.self) { try Timeline(json: Data(missing.utf8)) }
        #expect(missingError?.problems.first == TimelineProblem(element: "video[0].asset", message: "required"))
        let transition = #"{"version": 2, "video": [{"id": "s1", "asset": "a", "out": 3, "transition": {"type": "spin", "duration": 1}}]}"#
        let transitionError = #expect(throws: TimelineInvalid.self) { try Timeline(json: Data(transition.utf8)) }
        #expect(transitionError?.problems.first?.element == "video[0].transition.type")
        #expect(transitionError?.problems.first?.message.contains("unknown transition \"spin\"") == true)
    }

    @Test func aValidCutHasNoProblems() throws {
        #expect(Cut.timeline.problems(assets: Cut.assets).isEmpty)
        try Cut.timeline.validate(assets: Cut.assets)
    }

    @Test func aTransitionLongerThanAClipIsRefusedNamingTheClip() {
        var timeline = Cut.timeline
        timeline.video[0].transition = Transition(type: .wipeleft, duration: 4.5)
        let problems = timeline.problems(assets: Cut.assets)
        #expect(problems.contains(TimelineProblem(element: #"video[0] "s1""#, message: "transition of 4.5 s is longer than the clip (4 s)")))
    }

    @Test func transitionsInAndOutMustFitTheClipBetweenThem() {
        var timeline = Cut.timeline
        timeline.video[0].transition = Transition(duration: 3)
        timeline.video[1].transition = Transition(duration: 2)
        let problems = timeline.problems(assets: Cut.assets)
        #expect(problems.contains { $0.element == #"video[1] "s2""# && $0.message.contains("overlap within the clip") })
    }

    @Test func anOverlayPastTheEndIsRefusedNamingIt() {
        var timeline = Cut.timeline
        timeline.overlays[0].end = 12
        #expect(timeline.problems(assets: Cut.assets) == [
            TimelineProblem(element: #"overlays[0] "title""#, message: "ends at 12 s, past the end of the film (11 s)"),
        ])
    }

    @Test func aMissingOrUnreadableAssetIsRefusedNamingTheElement() {
        var timeline = Cut.timeline
        timeline.video[1].asset = "nowhere"
        var assets = Cut.assets
        assets["voice"] = TimelineAsset(unreadable: "invalid data found when processing input")
        let problems = timeline.problems(assets: assets)
        #expect(problems.contains(TimelineProblem(element: #"video[1] "s2""#, message: #"asset "nowhere" is missing"#)))
        #expect(problems.contains(TimelineProblem(
            element: #"audio.voice[0] "vo""#, message: #"asset "voice" cannot be read: invalid data found when processing input"#)))
    }

    @Test func otherMistakesAreEachNamed() {
        var timeline = Cut.timeline
        timeline.video[2].transition = Transition(duration: 0.5)
        timeline.video[2].id = "s1"
        timeline.video[1].outPoint = 7
        timeline.overlays[0].color = "white"
        timeline.audio.voice[0].at = 20
        timeline.output.width = 321
        timeline.output.preset = "warp"
        let elements = Set(timeline.problems(assets: Cut.assets).map(\.element))
        #expect(elements == [#"video[2] "s1""#, #"video[1] "s2""#, #"overlays[0] "title""#, #"audio.voice[0] "vo""#, "output", "output.preset"])
    }

    @Test func anAudioOnlyAssetCannotBeAClip() {
        var timeline = Cut.timeline
        timeline.video[1].asset = "voice"
        timeline.video[1].inPoint = 0
        timeline.video[1].outPoint = 2
        #expect(timeline.problems(assets: Cut.assets).contains(TimelineProblem(element: #"video[1] "s2""#, message: #"asset "voice" has no video"#)))
    }
}
