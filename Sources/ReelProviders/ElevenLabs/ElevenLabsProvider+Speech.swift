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
            // The answer is streamed to a file beside the audio, then split: the base64 audio is
            // decoded into the audio file and only the alignment is parsed.
            let answerFile = file.appendingPathExtension("json")
            let response = try await fetchBody(http, to: answerFile, maxBytes: settings.maxTimestampedBytes, context: context)
            defer { try? FileManager.default.removeItem(at: answerFile) }
            let answer: JSONValue
            do {
                answer = try ElevenLabsTimestampedAudio.split(answerFile, audio: file)
            } catch let malformed as ElevenLabsTimestampedAudio.Malformed {
                throw ElevenLabsFailure.malformed(malformed.reason, requestID: response.requestID)
            }
            let alignment = Self.alignment(answer["alignment"])
            let normalized = Self.alignment(answer["normalized_alignment"] ?? answer["normalizedAlignment"])
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
            let starts = (value["character_start_times_seconds"] ?? value["characterStartTimesSeconds"])?.arrayValue,
            let ends = (value["character_end_times_seconds"] ?? value["characterEndTimesSeconds"])?.arrayValue,
            starts.count == characters.count, ends.count == characters.count
        else { return nil }
        return ["characters": .array(characters), "character_start_times_seconds": .array(starts), "character_end_times_seconds": .array(ends)]
    }
}
