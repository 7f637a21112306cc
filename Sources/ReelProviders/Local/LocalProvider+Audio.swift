import Foundation
import ReelCore
import ReelRender

extension LocalProvider {
    func makeAudio(_ request: GenerationRequest, in directory: URL) throws -> GenerationResult {
        let seed = Self.seed(request)
        let output = directory.appendingPathComponent("\(request.kind.rawValue)-\(Self.fileStem(for: request.externalID)).m4a")
        let audio: AudioSamples
        let usage: Usage
        let note: String
        let model: String
        switch request.kind {
        case .speech:
            let voiceSeed = seed ^ SeededRandom.hash(request.voice ?? "")
            audio = AudioSynthesizer.speechLike(text: request.prompt, seed: voiceSeed, charactersPerSecond: configuration.speechCharactersPerSecond)
            usage = Usage(unit: "characters", amount: Double(request.prompt.count))
            note = "speech-like formant tones timed to the text, not speech synthesis"
            model = "reeld-local-speechlike"
        case .music:
            audio = AudioSynthesizer.music(durationSeconds: Self.length(request.durationSeconds, default: configuration.defaultMusicSeconds), seed: seed)
            usage = Usage(unit: "audio_seconds", amount: audio.durationSeconds)
            note = "seeded four-chord pad, not a music model"
            model = "reeld-local-chords"
        default:
            audio = AudioSynthesizer.soundEffect(
                durationSeconds: Self.length(request.durationSeconds, default: configuration.defaultSoundEffectSeconds), seed: seed)
            usage = Usage(unit: "audio_seconds", amount: audio.durationSeconds)
            note = "filtered-noise whoosh, not a sound-effect model"
            model = "reeld-local-whoosh"
        }
        try AudioWriter.writeM4A(audio, to: output)
        return GenerationResult(
            files: [GeneratedFile(url: output, mimeType: "audio/mp4")], usage: usage, model: request.model ?? model, notes: [note])
    }

    static func length(_ requested: Double?, default value: Double) -> Double {
        min(max(requested ?? value, 0.25), 600)
    }
}
