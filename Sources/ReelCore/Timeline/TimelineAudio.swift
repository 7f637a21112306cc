/// The timeline's audio tracks, mixed under (and over) the clips' own sound.
public struct TimelineAudio: Sendable, Hashable, Codable {
    /// Voiceover clips at film times; the music ducks under them.
    public var voice: [AudioClip]
    /// One music bed, or none.
    public var music: MusicBed?
    /// Sound effects at film times.
    public var effects: [AudioClip]

    public init(voice: [AudioClip] = [], music: MusicBed? = nil, effects: [AudioClip] = []) {
        self.voice = voice
        self.music = music
        self.effects = effects
    }

    /// No voice, music or effects: the clips' own sound is the soundtrack.
    public var isEmpty: Bool { voice.isEmpty && music == nil && effects.isEmpty }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case voice, music, effects
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        voice = try c.decodeIfPresent([AudioClip].self, forKey: .voice) ?? []
        music = try c.decodeIfPresent(MusicBed.self, forKey: .music)
        effects = try c.decodeIfPresent([AudioClip].self, forKey: .effects) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(voice, forKey: .voice)
        try c.encodeIfPresent(music, forKey: .music)
        try c.encode(effects, forKey: .effects)
    }
}
