import Foundation
import ReelCore
import ReelRender

extension LocalProvider {
    static let storyboardGenerator = "reeld-local-template"

    /// A storyboard filled in from templates, seeded by the brief. The local provider knows only
    /// this one schema: a `responseSchema` is not applied, except that a `scenes` array's
    /// `minItems`/`maxItems` sets the scene count. `durationSeconds`, when given, is the film's
    /// total length, shared evenly between scenes (5 s each otherwise).
    func storyboard(for request: GenerationRequest) -> GenerationResult {
        var random = SeededRandom(seed: Self.seed(request))
        let brief = request.prompt.trimmingCharacters(in: .whitespacesAndNewlines)
        let subject = brief.isEmpty ? "an untold story" : String(brief.prefix(160))
        let count = Self.sceneCount(request.responseSchema) ?? (3 + Int(random.next() % 2))
        let sceneSeconds = request.durationSeconds.map { max(1, $0 / Double(count)) } ?? 5
        let beats = ["Opening", "Discovery", "Turn", "Resolution"]
        let shots = ["Wide establishing shot", "Slow push-in", "Close-up", "Tracking shot", "Aerial view", "Over-the-shoulder shot"]
        let lights = ["at dawn", "in golden-hour light", "under an overcast sky", "at blue hour", "by lamplight", "in hard noon sun"]
        let lines = [
            "It begins with %@.", "Something changes: %@.", "Nothing is quite as it seemed with %@.", "And so it ends, with %@.",
        ]
        var scenes: [JSONValue] = []
        for index in 0..<count {
            let beat = index == 0 ? beats[0] : index == count - 1 ? beats[3] : beats[min(index, 2)]
            let shot = shots[Int(random.next() % UInt64(shots.count))]
            let light = lights[Int(random.next() % UInt64(lights.count))]
            let description = "\(shot) of \(subject), \(light)."
            let lineTemplate = index == 0 ? lines[0] : index == count - 1 ? lines[3] : lines[1 + index % 2]
            scenes.append([
                "index": .int(Int64(index + 1)),
                "title": .string("\(beat)\(count > 4 && index > 0 && index < count - 1 ? " \(index)" : "")"),
                "description": .string(description),
                "start_frame_prompt": .string("\(description) First frame, the scene at rest."),
                "end_frame_prompt": .string("\(description) Last frame, the moment after the action."),
                "narration": .string(lineTemplate.replacingOccurrences(of: "%@", with: subject)),
                "duration_seconds": .double(sceneSeconds),
            ])
        }
        let moods = ["hopeful", "wistful", "tense", "playful", "serene"]
        let instruments = ["piano and strings", "synth pads", "acoustic guitar", "soft brass", "music box and cello"]
        let words = brief.split(whereSeparator: \.isWhitespace).prefix(6).map { $0.prefix(1).uppercased() + $0.dropFirst() }
        let storyboard: JSONValue = [
            "title": .string(words.isEmpty ? "Untitled" : words.joined(separator: " ")),
            "logline": .string("A \(count)-scene short about \(subject)."),
            "generator": .string(Self.storyboardGenerator),
            "scenes": .array(scenes),
            "music_prompt": .string(
                "\(moods[Int(random.next() % UInt64(moods.count))]) \(instruments[Int(random.next() % UInt64(instruments.count))]), "
                    + "\(70 + Int(random.next() % 50)) BPM"),
        ]
        var notes = ["template storyboard, not a language model"]
        if request.responseSchema != nil {
            notes.append("local provider only knows the storyboard schema; responseSchema was not applied beyond the scene count")
        }
        let tokenEstimate = Double(brief.split(whereSeparator: \.isWhitespace).count + storyboard.jsonText.split(separator: " ").count)
        return GenerationResult(
            json: storyboard, usage: Usage(unit: "tokens", amount: tokenEstimate), model: request.model ?? Self.storyboardGenerator, notes: notes)
    }

    /// The scene count a schema pins: `properties.scenes.minItems` (or `maxItems`), 1...12.
    static func sceneCount(_ schema: JSONValue?) -> Int? {
        guard let scenes = schema?["properties"]?["scenes"] else { return nil }
        guard let n = scenes["minItems"]?.intValue ?? scenes["maxItems"]?.intValue else { return nil }
        return Int(min(max(n, 1), 12))
    }
}
