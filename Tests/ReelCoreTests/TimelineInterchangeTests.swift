import Foundation
import ReelCore
import Testing

@Suite struct TimelineInterchangeTests {
    static let schemaPath = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("config/timeline.schema.json").path

    /// Set `REELD_WRITE_SCHEMA=1` to regenerate the committed schema after changing the model.
    @Test func committedSchemaMatchesTheCode() throws {
        if ProcessInfo.processInfo.environment["REELD_WRITE_SCHEMA"] == "1" {
            try Data(TimelineSchema.text.utf8).write(to: URL(fileURLWithPath: Self.schemaPath))
        }
        let committed = try #require(FileManager.default.contents(atPath: Self.schemaPath), "missing \(Self.schemaPath)")
        #expect(
            try JSONValue(parsing: committed) == TimelineSchema.document,
            "config/timeline.schema.json is stale: run REELD_WRITE_SCHEMA=1 swift test --filter TimelineInterchangeTests")
    }

    /// Every key the encoder writes (for a timeline with every optional part set) is a property
    /// the schema allows at that place, so the schema cannot fall behind the model.
    @Test func everyKeyTheEncoderWritesIsInTheSchema() throws {
        var timeline = Cut.timeline
        timeline.video[1].transition = Transition(type: .dissolve, duration: 0.5)
        timeline.overlays[0].box = TextBox()
        timeline.audio.voice[0].outPoint = 2
        timeline.audio.effects = [AudioClip(id: "fx", asset: "voice", at: 2, out: 1)]
        timeline.audio.music?.outPoint = 10
        timeline.audio.music?.ducking = Ducking()
        timeline.output.quality = 20
        timeline.output.audioBitrate = 128_000
        let schema = TimelineSchema.document
        var unknown: [String] = []
        func walk(_ value: JSONValue, _ node: JSONValue, path: String) {
            var node = node
            if let ref = node["$ref"]?.stringValue { node = schema["$defs"]?[String(ref.dropFirst("#/$defs/".count))] ?? .null }
            if let choices = node["oneOf"]?.arrayValue, let object = choices.first(where: { $0["type"] != "null" }) {
                walk(value, object, path: path)
                return
            }
            switch value {
            case .object(let fields):
                for (key, field) in fields {
                    guard let property = node["properties"]?[key] else {
                        unknown.append(path + "." + key)
                        continue
                    }
                    walk(field, property, path: path + "." + key)
                }
            case .array(let items):
                for item in items { walk(item, node["items"] ?? .null, path: path + "[]") }
            default:
                break
            }
        }
        walk(timeline.jsonValue, schema, path: "timeline")
        #expect(unknown.isEmpty, "keys the schema does not list: \(unknown)")
        #expect(schema["$defs"]?["transition"]?["properties"]?["type"]?["enum"]?.arrayValue?.count == TransitionType.allCases.count)
    }

    @Test func openTimelineIOHasTheCutFrameForFrame() throws {
        let otio = Cut.timeline.openTimelineIO(assets: Cut.assets) { "file:///media/\($0).mp4" }
        #expect(otio["OTIO_SCHEMA"] == "Timeline.1")
        let tracks = try #require(otio["tracks"]?["children"]?.arrayValue)
        #expect(tracks.map { $0["name"]?.stringValue ?? "" } == ["Video", "Voice", "Music"])
        let video = try #require(tracks[0]["children"]?.arrayValue)
        #expect(video.map { $0["OTIO_SCHEMA"]?.stringValue ?? "" } == ["Clip.1", "Transition.1", "Clip.1", "Clip.1"])
        func frames(_ item: JSONValue, _ field: String) -> Double { item["source_range"]?[field]?["value"]?.doubleValue ?? -1 }
        // A 25-frame fade: 12 frames before the cut (off s2's head), 13 after (off s1's tail).
        #expect(video[1]["in_offset"]?["value"] == .double(12) && video[1]["out_offset"]?["value"] == .double(13))
        #expect(video[1]["transition_type"] == "SMPTE_Dissolve")
        #expect(frames(video[0], "start_time") == 0 && frames(video[0], "duration") == 87)
        #expect(frames(video[2], "start_time") == 25 + 12 && frames(video[2], "duration") == 88)
        #expect(frames(video[3], "start_time") == 50 && frames(video[3], "duration") == 100)
        let total = [0, 2, 3].map { frames(video[$0], "duration") }.reduce(0, +)
        #expect(total == Double(Cut.timeline.layout.totalFrames))
        #expect(video[0]["media_reference"]?["target_url"] == "file:///media/a.mp4")
        #expect(video[0]["source_range"]?["start_time"]?["rate"] == .double(25))
        let voice = try #require(tracks[1]["children"]?.arrayValue)
        #expect(voice.map { $0["OTIO_SCHEMA"]?.stringValue ?? "" } == ["Gap.1", "Clip.1"])
        #expect(frames(voice[0], "duration") == 25 && frames(voice[1], "duration") == 75)
        let markers = try #require(tracks[0]["markers"]?.arrayValue)
        #expect(markers.first?["name"] == "Hello" && markers.first?["marked_range"]?["duration"]?["value"] == .double(75))
        #expect(otio["metadata"]?["reeld"]?["timeline"] == Cut.timeline.jsonValue)
    }

    @Test func overlappingSoundsGoOnSeparateTracks() {
        var timeline = Cut.timeline
        timeline.audio.effects = [
            AudioClip(id: "fx1", asset: "voice", at: 1), AudioClip(id: "fx2", asset: "voice", at: 2), AudioClip(id: "fx3", asset: "voice", at: 5),
        ]
        let otio = timeline.openTimelineIO(assets: Cut.assets) { _ in nil }
        let names = otio["tracks"]?["children"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
        #expect(names == ["Video", "Voice", "Music", "Effects 1", "Effects 2"])
        let first = otio["tracks"]?["children"]?.arrayValue?[3]["children"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
        #expect(first == ["", "fx1", "", "fx3"])
        #expect(otio["tracks"]?["children"]?.arrayValue?[0]["children"]?.arrayValue?[0]["media_reference"]?["OTIO_SCHEMA"] == "MissingReference.1")
    }
}
