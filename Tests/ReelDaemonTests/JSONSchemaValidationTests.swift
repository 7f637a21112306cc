import Foundation
import ReelCore
import ReelIntake
import ReelTestSupport
import Testing

/// The published JSON Schemas (`config/job-file.schema.json`, `config/timeline.schema.json`)
/// used as another tool would use them: the job files and timelines of the docs and of the
/// tests validate against them, and documents the decoders refuse do not.
@Suite struct JSONSchemaValidationTests {
    static let root = ProcessTests.DocumentationExamplesTests.root

    static func validator(_ name: String) throws -> JSONSchemaValidator {
        try JSONSchemaValidator(contentsOf: root.appendingPathComponent("config").appendingPathComponent(name))
    }

    static let project = "8d0f3b2a-1c4e-4f6a-b7d9-5e2a1c3b4d6f"
    static let user = "2f1c9a7e-5b1e-4c7a-9d2e-0b8e6f1a3c44"

    // MARK: The validator itself

    /// A schema with every keyword the validator checks; for each, a document that breaks only
    /// that keyword fails naming it, and the document that breaks none passes.
    @Test func theValidatorRejectsWhatEachKeywordForbids() throws {
        let schema: JSONValue = [
            "$defs": ["id": ["type": "string", "pattern": "^[a-z]+[0-9]$"]],
            "type": "object",
            "required": ["id", "count"],
            "additionalProperties": false,
            "properties": [
                "id": ["$ref": "#/$defs/id"],
                "count": ["type": "integer", "minimum": 1, "maximum": 10],
                "ratio": ["type": "number", "exclusiveMinimum": 0, "multipleOf": 0.25],
                "name": ["type": "string", "minLength": 2, "maxLength": 4],
                "mode": ["enum": ["a", "b"]],
                "version": ["const": 2],
                "tags": ["type": "array", "minItems": 1, "maxItems": 2, "items": ["type": "string"]],
                "either": ["oneOf": [["type": "null"], ["type": "integer"], ["type": "number", "maximum": 1]]],
                "any": ["anyOf": [["type": "boolean"], ["type": "string"]]],
                "extra": ["type": "object", "additionalProperties": ["type": "integer"]],
            ],
            "allOf": [
                ["if": ["properties": ["mode": ["const": "b"]], "required": ["mode"]], "then": ["required": ["name"]]],
            ],
        ]
        let validator = try JSONSchemaValidator(schema: schema)
        let valid: JSONValue = [
            "id": "abc1", "count": 3, "ratio": 0.75, "name": "ab", "mode": "b", "version": 2.0, "tags": ["x"],
            "either": 5, "any": true, "extra": ["n": 1],
        ]
        #expect(validator.validate(valid).isEmpty, "\(validator.validate(valid))")
        // An integer may be written with a zero fraction, as JSON Schema counts it.
        #expect(validator.validate(["id": "a1", "count": 4.0]).isEmpty)

        func changed(_ key: String, _ value: JSONValue?) -> JSONValue {
            var fields = valid.objectValue!
            fields[key] = value
            return .object(fields)
        }
        let broken: [(String, JSONValue, String)] = [
            ("not an object", "abc1", "type"),
            ("id missing", changed("id", nil), "required"),
            ("unknown property", changed("colour", "red"), "additionalProperties"),
            ("id breaks the referenced pattern", changed("id", "ABC1"), "pattern"),
            ("count not an integer", changed("count", 2.5), "type"),
            ("count a string", changed("count", "3"), "type"),
            ("count below its minimum", changed("count", 0), "minimum"),
            ("count above its maximum", changed("count", 11), "maximum"),
            ("ratio at its exclusive minimum", changed("ratio", 0), "exclusiveMinimum"),
            ("ratio not a multiple", changed("ratio", 0.3), "multipleOf"),
            ("name too short", changed("name", "a"), "minLength"),
            ("name too long", changed("name", "abcde"), "maxLength"),
            ("mode not in the enum", changed("mode", "c"), "enum"),
            ("version not the constant", changed("version", 3), "const"),
            ("tags empty", changed("tags", []), "minItems"),
            ("too many tags", changed("tags", ["a", "b", "c"]), "maxItems"),
            ("a tag not a string", changed("tags", [1]), "type"),
            ("either matches two choices", changed("either", 1), "oneOf"),
            ("either matches none", changed("either", "x"), "oneOf"),
            ("any matches none", changed("any", 1), "anyOf"),
            ("extra's value breaks additionalProperties' schema", changed("extra", ["n": "one"]), "type"),
            ("mode b without the name its if/then requires", changed("name", nil), "required"),
        ]
        for (what, document, keyword) in broken {
            let failures = validator.validate(document)
            #expect(failures.contains { $0.keyword == keyword }, "\(what): expected a \(keyword) failure, got \(failures)")
        }
        #expect(validator.validate(changed("extra", ["n": "one"])).map(\.path) == ["$.extra.n"])
        #expect(validator.validate(changed("tags", ["a", 2])).map(\.path) == ["$.tags[1]"])
    }

    /// A keyword the validator does not implement is refused up front, never ignored.
    @Test func aSchemaWithAnUnsupportedKeywordIsRefused() {
        #expect(throws: JSONSchemaValidator.Unsupported.self) { try JSONSchemaValidator(schema: ["type": "object", "patternProperties": [:]]) }
        #expect(throws: JSONSchemaValidator.Unsupported.self) { try JSONSchemaValidator(schema: ["$ref": "#/$defs/missing"]) }
        #expect(throws: JSONSchemaValidator.Unsupported.self) {
            try JSONSchemaValidator(schema: ["properties": ["a": ["items": ["uniqueItems": true]]]])
        }
    }

    // MARK: Job files

    @Test func everyJobFileInTheDocsIsValidAgainstTheSchema() throws {
        let validator = try Self.validator("job-file.schema.json")
        let files = ProcessTests.DocumentationExamplesTests.jobFiles(in: try ProcessTests.DocumentationExamplesTests.blocks())
        #expect(files.count >= 3)
        for (block, text) in files {
            let failures = validator.validate(text: text)
            #expect(failures.isEmpty, "\(block): \(failures)")
        }
    }

    /// Job files the tests feed the decoder. Those it accepts are valid against the schema; those
    /// it refuses for a rule the schema states are not. (A NUL in a string, a `run_at` that is no
    /// date and malformed JSON are refused by the decoder alone: the schema cannot say them.)
    @Test func jobFilesTheDecoderAcceptsAreValidAndThoseItRefusesAreNot() throws {
        let validator = try Self.validator("job-file.schema.json")
        let p = Self.project, u = Self.user
        let accepted = [
            #"{"kind": "system.noop"}"#,
            #"{"kind": "system.noop", "idempotency_key": "k-one", "priority": 0}"#,
            #"{"kind": "system.sleep", "args": {"seconds": 86400}}"#,
            #"{"kind": "system.sleep", "args": {"seconds": 5}}"#,
            #"{"kind": "system.noop", "run_at": "2026-01-31T10:30:00.250+01:00"}"#,
            #"{"kind": "system.noop", "user_id": "\#(u)"}"#,
            #"{"kind": "workflow.run", "args": {"brief": "A lighthouse at dusk", "scenes": 4}, "user_id": "\#(u)", "project_id": "\#(p)", "idempotency_key": "brief-42", "priority": 10, "run_at": "2026-01-31T09:30:00Z", "max_attempts": 5}"#,
            #"{"kind": "workflow.run", "project_id": "\#(p)", "args": {"brief": "b", "scenes": 4.0}, "priority": 5.0}"#,
            #"{"kind": "workflow.run", "user_id": "\#(u)", "args": {"brief": "b"}}"#,
            #"{"kind": "workflow.run", "project_id": "\#(p)", "args": {"brief": "A heron"}, "idempotency_key": "heron-1"}"#,
            #"{"kind": "image.generate", "project_id": "\#(p)", "args": {"prompt": "p", "role": "hero"}}"#,
            #"{"kind": "audio.sfx", "project_id": "\#(p)", "args": {"prompt": "door", "provider": "elevenlabs", "model": "sfx-2"}}"#,
            #"{"kind": "audio.speech", "project_id": "\#(p)", "args": {"text": "Hello"}}"#,
            #"{"kind": "render.edit", "project_id": "\#(p)"}"#,
            #"{"kind": "text.storyboard", "project_id": "\#(p)", "args": {"brief": "A heron"}}"#,
        ]
        let refused = [
            #"["system.noop"]"#,
            #"{"kind": "video.upscale"}"#,
            #"{"args": {}}"#,
            #"{"kind": "system.noop", "priorty": 5}"#,
            #"{"kind": "system.noop", "priority": 1001}"#,
            #"{"kind": "system.noop", "priority": -1}"#,
            #"{"kind": "system.noop", "priority": 1.5}"#,
            #"{"kind": "system.noop", "max_attempts": 0}"#,
            #"{"kind": "system.noop", "idempotency_key": ""}"#,
            #"{"kind": "system.noop", "user_id": "nope"}"#,
            #"{"kind": "system.noop", "args": {"provider": 3}}"#,
            #"{"kind": "system.sleep", "args": {"seconds": 86401}}"#,
            #"{"kind": "system.sleep", "args": {}}"#,
            #"{"kind": "workflow.run", "project_id": "\#(p)", "args": {"brief": 42}}"#,
            #"{"kind": "workflow.run", "project_id": "\#(p)", "args": {"brief": "b", "scenes": 13}}"#,
            #"{"kind": "workflow.run", "project_id": "\#(p)", "args": {"brief": "b", "scenes": 2.5}}"#,
            #"{"kind": "workflow.run", "project_id": "\#(p)", "args": {"brief": ["not", "a", "string"]}}"#,
            #"{"kind": "workflow.run", "args": {"brief": "A lighthouse keeper's last night"}}"#,
            #"{"kind": "image.generate", "project_id": "\#(p)", "args": {"width": 1024}}"#,
            #"{"kind": "image.generate", "project_id": "\#(p)", "args": {"prompt": "p", "role": "villain"}}"#,
            #"{"kind": "render.export", "project_id": "\#(p)", "args": {"format": "mov"}}"#,
            #"{"kind": "render.edit"}"#,
            #"{"kind": "text.storyboard", "args": {"brief": "A heron"}}"#,
            #"{"kind": "system.noop", "args": {"a b": 1}}"#,
            #"{"kind": "audio.speech", "project_id": "\#(p)", "args": {"text": "\#(String(repeating: "é", count: 5001))"}}"#,
            #"{"kind": "video.generate", "user_id": "nope", "project_id": "\#(p)", "priority": 1.5, "args": {"prompt": "", "duration_seconds": 90, "start_asset_id": "x", "colour": "red"}}"#,
        ]
        let decoder = JobFileDecoder()
        for text in accepted {
            #expect(throws: Never.self, "the decoder refuses a fixture meant to be valid: \(text)") { try decoder.decode(Array(text.utf8)) }
            let failures = validator.validate(text: text)
            #expect(failures.isEmpty, "\(text): \(failures)")
        }
        for text in refused {
            #expect(throws: (any Error).self, "the decoder accepts a fixture meant to be refused: \(text)") { try decoder.decode(Array(text.utf8)) }
            #expect(!validator.validate(text: text).isEmpty, "the schema accepts what the decoder refuses: \(text)")
        }
    }

    // MARK: Timelines

    /// The docs' timelines (only their asset ids are shortened, which the schema allows), and
    /// each one as the encoder writes it back.
    @Test func everyTimelineInTheDocsIsValidAgainstTheSchemaAsWrittenAndAsReencoded() throws {
        let validator = try Self.validator("timeline.schema.json")
        let timelines = try ProcessTests.DocumentationExamplesTests.blocks().filter { block in
            guard block.language == "json", case .object(let fields)? = try? JSONValue(parsing: Data(block.text.utf8)) else { return false }
            return fields["video"] != nil
        }
        #expect(!timelines.isEmpty)
        for block in timelines {
            let failures = validator.validate(text: block.text)
            #expect(failures.isEmpty, "\(block): \(failures)")
            let decoded = try Timeline(json: Data(block.text.utf8))
            let reencoded = validator.validate(decoded.jsonValue)
            #expect(reencoded.isEmpty, "\(block), re-encoded: \(reencoded)")
        }
    }

    /// Whether reeld refuses a timeline: its decoder, or its checks against assets that exist
    /// and are long enough (so that only the timeline's own values can fail them).
    static func reeldRefuses(_ document: JSONValue) -> Bool {
        guard let timeline = try? Timeline(json: Data(document.jsonText.utf8)) else { return true }
        let assets = Dictionary(uniqueKeysWithValues: ["a", "b", "voice", "music"].map {
            ($0, TimelineAsset(durationSeconds: 100, hasVideo: true, hasAudio: true))
        })
        return !timeline.problems(assets: assets).isEmpty
    }

    /// A timeline with every optional part, built in code, as the encoder writes it; and the same
    /// broken in ways reeld refuses.
    @Test func timelinesTheEncoderWritesAreValidAndBrokenOnesAreNot() throws {
        let validator = try Self.validator("timeline.schema.json")
        var timeline = Timeline(
            name: "Every part",
            video: [
                TimelineClip(id: "s1", asset: "a", in: 0, out: 2, transition: Transition(type: .dissolve, duration: 0.5)),
                TimelineClip(id: "s2", asset: "b", in: 0.5, out: 3, volume: 0.5),
            ],
            overlays: [TextOverlay(id: "title", text: "The Lighthouse", box: TextBox(), start: 0, end: 2, fade: 0.5)],
            output: TimelineOutput(format: .mp4, width: 1280, height: 720, fps: 30, quality: 20, preset: "veryfast",
                                   audioBitrate: 128_000, loudness: -14))
        timeline.audio.voice = [AudioClip(id: "vo", asset: "voice", at: 1, out: 2)]
        timeline.audio.effects = [AudioClip(id: "fx", asset: "voice", at: 2, out: 1, volume: 0.5)]
        timeline.audio.music = MusicBed(asset: "music", out: 10, volume: 0.6, fadeIn: 1, fadeOut: 2, ducking: Ducking())
        let document = timeline.jsonValue
        #expect(!Self.reeldRefuses(document), "the fixture itself is refused: \(timeline.problems(assets: [:]))")
        #expect(validator.validate(document).isEmpty, "\(validator.validate(document))")

        func broken(_ change: (inout [String: JSONValue]) -> Void) -> JSONValue {
            var fields = document.objectValue!
            change(&fields)
            return .object(fields)
        }
        func clip(_ index: Int, _ key: String, _ value: JSONValue?) -> JSONValue {
            broken { fields in
                var clips = fields["video"]!.arrayValue!
                var clip = clips[index].objectValue!
                clip[key] = value
                clips[index] = .object(clip)
                fields["video"] = .array(clips)
            }
        }
        let wrong: [(String, JSONValue)] = [
            ("a clip without its out point", clip(0, "out", nil)),
            ("a clip with an empty id", clip(0, "id", "")),
            ("a negative in point", clip(1, "in", -1)),
            ("an unknown transition", clip(0, "transition", ["type": "spin", "duration": 0.5])),
            ("a volume above 4", clip(1, "volume", 5)),
            ("an unknown clip field", clip(1, "speed", 2)),
            ("an unknown top-level field", broken { $0["soundtrack"] = "x" }),
            ("no video track", broken { $0["video"] = nil }),
            ("an empty video track", broken { $0["video"] = [] }),
            ("another version", broken { $0["version"] = 3 }),
        ]
        for (what, document) in wrong {
            #expect(Self.reeldRefuses(document), "reeld accepts \(what)")
            #expect(!validator.validate(document).isEmpty, "the schema accepts \(what)")
        }
    }
}
