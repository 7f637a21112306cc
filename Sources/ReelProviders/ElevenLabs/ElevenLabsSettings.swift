import Foundation

/// How reeld talks to ElevenLabs: where, with which key, which models and voice by default, in
/// which audio format, and how long to wait. Every call is synchronous (the audio is the answer),
/// so there is no poll interval: only request timeouts and size caps.
public struct ElevenLabsSettings: Sendable {
    /// The host, without `/v1` and without a trailing slash (`https://api.elevenlabs.io`).
    public var baseURL: String
    public var apiKey: String
    public var speechModel: String
    public var soundEffectModel: String
    public var musicModel: String
    /// The voice a speech job gets when it names none (`args.voice`): a premade voice every
    /// account has ("George").
    public var defaultVoiceID: String
    /// The `output_format` query parameter of every call: codec, sample rate and bit rate.
    public var outputFormat: String
    /// Speech through `/with-timestamps`, keeping the character alignment for subtitles; off,
    /// the plain endpoint streams the audio bytes to the file.
    public var speechTimestamps: Bool
    /// How closely a sound effect follows its prompt (0–1), sent as `prompt_influence`.
    public var soundPromptInfluence: Double
    /// The lengths a music request may ask for; a job's length is brought into this range (the
    /// range both the 2025 and the 2026 API reference accept).
    public var musicLength: ClosedRange<Double>
    public var connectTimeout: Duration
    /// Speech and sound effects, from the first byte sent to the last audio byte received.
    public var speechTimeout: Duration
    public var soundEffectTimeout: Duration
    /// Music takes minutes to compose before the first byte comes back.
    public var musicTimeout: Duration
    /// The largest audio file accepted from a call that answers with bytes (streamed to disk).
    public var maxAudioBytes: Int64
    /// The largest `/with-timestamps` answer, streamed to disk and split there: base64 audio
    /// plus the alignment arrays (about 1.4 times the audio).
    public var maxTimestampedBytes: Int64

    public init(
        apiKey: String, baseURL: String = "https://api.elevenlabs.io", speechModel: String = "eleven_multilingual_v2",
        soundEffectModel: String = "eleven_text_to_sound_v2", musicModel: String = "music_v1",
        defaultVoiceID: String = "JBFqnCBsd6RMkjVDRZzb", outputFormat: String = "mp3_44100_128", speechTimestamps: Bool = true,
        soundPromptInfluence: Double = 0.3, musicLength: ClosedRange<Double> = 10...300,
        connectTimeout: Duration = .seconds(10), speechTimeout: Duration = .seconds(300), soundEffectTimeout: Duration = .seconds(120),
        musicTimeout: Duration = .seconds(600), maxAudioBytes: Int64 = 512 << 20, maxTimestampedBytes: Int64 = 160 << 20
    ) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        // Either spelling of the root is taken: the adapter appends `/v1/…` itself.
        if base.hasSuffix("/v1") { base.removeLast(3) }
        self.baseURL = base
        self.apiKey = apiKey
        self.speechModel = speechModel
        self.soundEffectModel = soundEffectModel
        self.musicModel = musicModel
        self.defaultVoiceID = defaultVoiceID
        self.outputFormat = outputFormat
        self.speechTimestamps = speechTimestamps
        self.soundPromptInfluence = soundPromptInfluence
        self.musicLength = musicLength
        self.connectTimeout = connectTimeout
        self.speechTimeout = speechTimeout
        self.soundEffectTimeout = soundEffectTimeout
        self.musicTimeout = musicTimeout
        self.maxAudioBytes = maxAudioBytes
        self.maxTimestampedBytes = maxTimestampedBytes
    }
}

extension ElevenLabsSettings: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Everything but the key: settings may be logged or dumped.
    public var description: String {
        "ElevenLabsSettings(baseURL: \(baseURL), apiKey: [redacted], speechModel: \(speechModel), soundEffectModel: \(soundEffectModel), "
            + "musicModel: \(musicModel), defaultVoiceID: \(defaultVoiceID), outputFormat: \(outputFormat), speechTimestamps: \(speechTimestamps))"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror { Mirror(self, children: ["description": description], displayStyle: .struct) }
}
