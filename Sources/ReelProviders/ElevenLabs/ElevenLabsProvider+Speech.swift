import Foundation
import ReelCore
import ReelHTTP

extension ElevenLabsProvider {
    /// Speech from text in the job's voice (or the default one). With timestamps (the default)
    /// the answer is JSON: the audio in base64 and, per character, when it is spoken; the
    /// alignment is returned as the result's JSON (`alignment`, `normalized_alignment`), kept on
    /// the generation for subtitles. Without, the audio bytes stream straight into the file.
    func speech(_ request: GenerationRequest, context: GenerationContext) async throws -> GenerationResult {
        guard !request.prompt.isEmpty else { throw JobError.permanent("args.text: nothing to speak") }
        let voice = try Self.voiceSegment(request.voice ?? settings.defaultVoiceID)
        let model = request.model ?? settings.speechModel
        var body: [String: JSONValue] = ["text": .string(request.prompt), "model_id": .string(model)]
        // The API takes seeds up to 2^32 - 1.
        if let seed = request.seed { body["seed"] = .int(Int64(seed % (1 << 32))) }
        let file = audioFile("speech", request, context: context)
        let json: JSONValue
        let characters: Double
        var notes: [String] = []
        if settings.speechTimestamps {
            let http = HTTPRequest.json(
                url: url("/text-to-speech/\(voice)/with-timestamps"), body: .object(body), headers: headers,
                options: options(total: settings.speechTimeout, maxBody: settings.maxTimestampedBytes))
            let (answer, response) = try await exchange(http, context: context)
            guard let encoded = answer["audio_base64"]?.stringValue else {
                throw ElevenLabsFailure.malformed("no audio_base64", requestID: response.requestID)
            }
            guard let audio = Data(base64Encoded: encoded, options: .ignoreUnknownCharacters), !audio.isEmpty else {
                throw ElevenLabsFailure.malformed("audio_base64 is not base64 audio", requestID: response.requestID)
            }
            try makeWorkDirectory(context)
            do {
                try audio.write(to: file, options: .atomic)
            } catch {
                throw JobError("cannot write the speech: \(error.localizedDescription)", class: .transient)
            }
            let alignment = Self.alignment(answer["alignment"])
            let normalized = Self.alignment(answer["normalized_alignment"])
            if alignment == nil, normalized == nil { notes.append("ElevenLabs sent no character timings") }
            json = ["voice_id": .string(voice), "output_format": .string(settings.outputFormat),
                    "alignment": alignment ?? .null, "normalized_alignment": normalized ?? .null]
            characters = Self.characterCost(response.headers) ?? Double(request.prompt.count)
        } else {
            let http = HTTPRequest.json(url: url("/text-to-speech/\(voice)"), body: .object(body), headers: headers, options: options(total: settings.speechTimeout))
            var audioRequest = http
            audioRequest.headers.set("Accept", "audio/*")
            let download = try await fetchAudio(audioRequest, to: file, context: context)
            json = ["voice_id": .string(voice), "output_format": .string(settings.outputFormat)]
            characters = Self.characterCost(download.headers) ?? Double(request.prompt.count)
            notes.append("no character timings (timestamps are off)")
        }
        return GenerationResult(
            json: json, files: [GeneratedFile(url: file, mimeType: Self.mimeType(settings.outputFormat))],
            usage: Usage(unit: "characters", amount: characters), model: model, notes: notes)
    }

    /// An alignment as documented (`characters` and the two time arrays of equal length), or nil:
    /// timings that do not line up are worse than none for subtitles.
    static func alignment(_ value: JSONValue?) -> JSONValue? {
        guard let value, let characters = value["characters"]?.arrayValue,
            let starts = value["character_start_times_seconds"]?.arrayValue,
            let ends = value["character_end_times_seconds"]?.arrayValue,
            starts.count == characters.count, ends.count == characters.count
        else { return nil }
        return ["characters": .array(characters), "character_start_times_seconds": .array(starts), "character_end_times_seconds": .array(ends)]
    }
}
