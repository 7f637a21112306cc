import Foundation
import ReelCore
import ReelHTTP

extension ElevenLabsProvider {
    /// The lengths a sound effect may have (`duration_seconds`); without one ElevenLabs chooses.
    static let soundEffectSeconds: ClosedRange<Double> = 0.5...30

    /// A sound effect from a description (`POST /v1/sound-generation`), its bytes streamed to the file.
    func soundEffect(_ request: GenerationRequest, context: GenerationContext) async throws -> GenerationResult {
        guard !request.prompt.isEmpty else { throw JobError.permanent("args.prompt: no description of the sound") }
        let model = request.model ?? settings.soundEffectModel
        var body: [String: JSONValue] = ["text": .string(request.prompt), "model_id": .string(model), "prompt_influence": .double(settings.soundPromptInfluence)]
        if let seconds = request.durationSeconds {
            // Refused here rather than cut: a 45 s effect silently made 30 s long would not fit the edit either.
            guard seconds.isFinite, Self.soundEffectSeconds.contains(seconds) else {
                throw JobError.permanent("args.duration_seconds: ElevenLabs makes sound effects of 0.5 to 30 s, not \(seconds) s")
            }
            body["duration_seconds"] = .double(seconds)
        }
        var http = HTTPRequest.json(url: url("/sound-generation"), body: .object(body), headers: headers, options: options(total: settings.soundEffectTimeout))
        http.headers.set("Accept", "audio/*")
        let download = try await fetchAudio(http, to: audioFile("sfx", request, context: context), context: context)
        var notes: [String] = []
        if let cost = Self.characterCost(download.headers) { notes.append("ElevenLabs charged \(Self.number(cost)) credits") }
        if request.durationSeconds == nil { notes.append("length chosen by ElevenLabs") }
        return GenerationResult(
            files: [GeneratedFile(url: download.file, mimeType: Self.mimeType(settings.outputFormat))],
            usage: Usage(unit: "audio_seconds", amount: request.durationSeconds ?? 0), model: model, notes: notes)
    }

    /// Music from a prompt (`POST /v1/music`), its bytes streamed to the file. The length asked
    /// for is brought into the range the API takes; a track longer than the film is trimmed by
    /// the edit, so the shortest one is still long enough for a short film.
    func music(_ request: GenerationRequest, context: GenerationContext) async throws -> GenerationResult {
        guard !request.prompt.isEmpty else { throw JobError.permanent("args.prompt: no description of the music") }
        let model = request.model ?? settings.musicModel
        var body: [String: JSONValue] = ["prompt": .string(request.prompt), "model_id": .string(model)]
        var notes: [String] = []
        var seconds: Double?
        if let wanted = request.durationSeconds, wanted.isFinite {
            let length = min(max(wanted, settings.musicLength.lowerBound), settings.musicLength.upperBound)
            if length != wanted { notes.append("length \(Self.number(length)) s instead of \(Self.number(wanted)) s (ElevenLabs' range)") }
            body["music_length_ms"] = .int(Int64((length * 1000).rounded()))
            seconds = length
        }
        var http = HTTPRequest.json(url: url("/music"), body: .object(body), headers: headers, options: options(total: settings.musicTimeout))
        http.headers.set("Accept", "audio/*")
        let download = try await fetchAudio(http, to: audioFile("music", request, context: context), context: context)
        if let song = download.headers["song-id"] {
            context.logger.debug("ElevenLabs composed a song", metadata: ["elevenlabs.song_id": "\(song)"])
        }
        if let cost = Self.characterCost(download.headers) { notes.append("ElevenLabs charged \(Self.number(cost)) credits") }
        if seconds == nil { notes.append("length chosen by ElevenLabs") }
        return GenerationResult(
            files: [GeneratedFile(url: download.file, mimeType: Self.mimeType(settings.outputFormat))],
            usage: Usage(unit: "audio_seconds", amount: seconds ?? 0), model: model, notes: notes)
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int64(value)) : String(format: "%.2f", value)
    }
}
