import Foundation

/// The JSON Schema (draft 2020-12) of a timeline. `config/timeline.schema.json` is this
/// document; a test keeps the two equal and checks that every key the encoder writes is in it.
///
/// The schema says what a well-formed timeline looks like; `Timeline.validate(assets:)` also
/// checks what a schema cannot (transitions against clip lengths, overlays against the film's end, assets).
public enum TimelineSchema {
    /// Pretty-printed with sorted keys and a final newline: the committed file's bytes.
    public static var text: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // Encoding a JSONValue cannot fail.
        return String(decoding: try! encoder.encode(document), as: UTF8.self) + "\n"
    }

    public static var document: JSONValue {
        // Whole numbers as integers, as they read back from the committed file.
        func value(_ d: Double) -> JSONValue { d == d.rounded() ? .int(Int64(d)) : .double(d) }
        func number(_ min: Double? = nil, _ max: Double? = nil, exclusiveMin: Bool = false, _ description: String) -> JSONValue {
            var o: [String: JSONValue] = ["type": "number", "description": .string(description)]
            if let min { o[exclusiveMin ? "exclusiveMinimum" : "minimum"] = value(min) }
            if let max { o["maximum"] = value(max) }
            return .object(o)
        }
        func integer(_ min: Int, _ max: Int, _ description: String) -> JSONValue {
            ["type": "integer", "minimum": .int(Int64(min)), "maximum": .int(Int64(max)), "description": .string(description)]
        }
        func string(_ description: String) -> JSONValue { ["type": "string", "minLength": 1, "description": .string(description)] }
        func object(_ properties: [String: JSONValue], required: [String], _ description: String) -> JSONValue {
            [
                "type": "object", "additionalProperties": false, "description": .string(description),
                "required": .array(required.map { .string($0) }), "properties": .object(properties),
            ]
        }
        let color: JSONValue = ["type": "string", "pattern": "^#([0-9a-fA-F]{6}|[0-9a-fA-F]{8})$", "description": "#rrggbb or #rrggbbaa"]
        let volume = number(0, 4, "linear gain: 1 unchanged, 0 silent")
        let audioClip = object([
            "id": string("unique within the timeline"),
            "asset": string("asset id"),
            "at": number(0, nil, "film time where the sound starts, seconds"),
            "in": number(0, nil, "start within the asset, seconds (default 0)"),
            "out": ["type": ["number", "null"], "description": "end within the asset, seconds (default: the asset's end)"],
            "volume": volume,
        ], required: ["id", "asset", "at"], "a sound placed at a film time")

        return [
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "urn:reeld:timeline",
            "title": "reeld timeline",
            "description": "A cut for reeld to render: video clips with transitions, text overlays, audio tracks and the output. Times are seconds.",
            "type": "object",
            "additionalProperties": false,
            "required": ["version", "video"],
            "properties": [
                "version": ["const": .int(Int64(Timeline.currentVersion))],
                "name": ["type": "string", "description": "title of the cut"],
                "video": ["type": "array", "minItems": 1, "items": ["$ref": "#/$defs/clip"], "description": "clips in playing order"],
                "overlays": ["type": "array", "items": ["$ref": "#/$defs/overlay"]],
                "audio": ["$ref": "#/$defs/audio"],
                "output": ["$ref": "#/$defs/output"],
            ],
            "$defs": [
                "clip": object([
                    "id": string("unique within the timeline"),
                    "asset": string("asset id"),
                    "in": number(0, nil, "start within the asset, seconds (default 0)"),
                    "out": number(0, nil, exclusiveMin: true, "end within the asset, seconds"),
                    "transition": ["$ref": "#/$defs/transition"],
                    "volume": volume,
                ], required: ["id", "asset", "out"], "a span of a video asset"),
                "transition": object([
                    "type": ["enum": .array(TransitionType.allCases.map { .string($0.rawValue) }), "description": "an xfade transition (default fade)"],
                    "duration": number(0, nil, exclusiveMin: true, "seconds the two clips overlap"),
                ], required: ["duration"], "the transition from this clip into the next; the last clip has none"),
                "overlay": object([
                    "id": string("unique within the timeline"),
                    "text": ["type": "string", "minLength": 1, "maxLength": 500],
                    "font": ["type": "string", "minLength": 1, "description": .string("font family (default \(TextOverlay.defaultFont))")],
                    "size": integer(4, 1000, "font size in output pixels (default 48)"),
                    "color": color,
                    "box": object(["color": color, "padding": integer(0, 500, "pixels around the text (default 12)")], required: [], "a filled box behind the text"),
                    "x": number(0, 1, "horizontal centre of the text, fraction of the width (default 0.5)"),
                    "y": number(0, 1, "vertical centre of the text, fraction of the height (default 0.5)"),
                    "start": number(0, nil, "film time the text appears"),
                    "end": number(0, nil, exclusiveMin: true, "film time the text is gone; at most the film's length"),
                    "fade": number(0, nil, "seconds of fade in and of fade out (default 0)"),
                ], required: ["id", "text", "start", "end"], "text over the picture"),
                "audio_clip": audioClip,
                "audio": object([
                    "voice": ["type": "array", "items": ["$ref": "#/$defs/audio_clip"], "description": "voiceover; the music ducks under it"],
                    "music": ["oneOf": [["type": "null"], ["$ref": "#/$defs/music"]]],
                    "effects": ["type": "array", "items": ["$ref": "#/$defs/audio_clip"]],
                ], required: [], "audio tracks mixed with the clips' own sound"),
                "music": object([
                    "asset": string("asset id"),
                    "at": number(0, nil, "film time the music starts (default 0)"),
                    "in": number(0, nil, "start within the asset (default 0)"),
                    "out": ["type": ["number", "null"], "description": "end within the asset (default: its end; the film's end cuts it anyway)"],
                    "volume": volume,
                    "fade_in": number(0, 60, "seconds (default 0)"),
                    "fade_out": number(0, 60, "seconds before the music stops (default 0)"),
                    "ducking": ["oneOf": [["type": "null"], ["$ref": "#/$defs/ducking"]]],
                ], required: ["asset"], "the music bed"),
                "ducking": object([
                    "depth_db": number(0, 60, "how far the music drops while the voice speaks, dB (default 12)"),
                    "attack": number(0, 10, "seconds to fall (default 0.2)"),
                    "release": number(0, 10, "seconds to recover (default 0.5)"),
                ], required: [], "lowering the music under the voice"),
                "output": object([
                    "format": ["enum": .array(OutputFormat.allCases.map { .string($0.rawValue) }), "description": "mp4: H.264 + AAC; webm: VP9 + Opus (default mp4)"],
                    "width": ["type": "integer", "minimum": 16, "maximum": 7680, "multipleOf": 2, "description": "default 1280"],
                    "height": ["type": "integer", "minimum": 16, "maximum": 4320, "multipleOf": 2, "description": "default 720"],
                    "fps": number(1, 120, "frames per second (default 30)"),
                    "quality": integer(0, 63, "constant rate factor, lower is better: H.264 0-51 (default 23), VP9 0-63 (default 32)"),
                    "preset": ["enum": .array(TimelineOutput.presets.map { .string($0) }), "description": "encoder speed (default veryfast)"],
                    "audio_bitrate": integer(32_000, 512_000, "bits per second (default AAC 192000, Opus 128000)"),
                    "loudness": [
                        "type": ["number", "null"], "minimum": -70, "maximum": -5,
                        "description": .string("integrated loudness target, LUFS (default \(Int(TimelineOutput.defaultLoudness))); null leaves levels as mixed"),
                    ],
                ], required: [], "what the render writes"),
            ],
        ]
    }
}
