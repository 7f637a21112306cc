/// The editor's cut as reeld renders it: a video track of clips with transitions between
/// neighbours, text overlays, audio tracks (voice, a music bed, sound effects) and the output.
///
/// A value: editing returns a new timeline (`Timeline+Editing.swift`), validation checks it
/// against the assets it names (`Timeline+Validation.swift`), and the JSON form is documented in
/// README.md (Render) with its schema in `config/timeline.schema.json` (`TimelineSchema`).
/// Times are seconds; clip `in`/`out` points are in the asset's own time, everything else
/// (`at`, overlay `start`/`end`) in the film's.
public struct Timeline: Sendable, Hashable, Codable {
    /// The format version this code reads and writes. Version 1 was the minimal cut
    /// (`video[].asset_id`, `voiceover`, `music`) that `render.edit` wrote before; the daemon
    /// upgrades it on read.
    public static let currentVersion = 2

    public var version: Int
    /// A title for the cut (used as the OpenTimelineIO timeline's name).
    public var name: String?
    /// The picture, in playing order. Each clip's `transition` leads into the next clip.
    public var video: [TimelineClip]
    public var overlays: [TextOverlay]
    public var audio: TimelineAudio
    public var output: TimelineOutput

    public init(
        name: String? = nil, video: [TimelineClip], overlays: [TextOverlay] = [], audio: TimelineAudio = TimelineAudio(),
        output: TimelineOutput = TimelineOutput()
    ) {
        self.version = Self.currentVersion
        self.name = name
        self.video = video
        self.overlays = overlays
        self.audio = audio
        self.output = output
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case version, name, video, overlays, audio, output
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        version = try c.decode(Int.self, forKey: .version)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        video = try c.decode([TimelineClip].self, forKey: .video)
        overlays = try c.decodeIfPresent([TextOverlay].self, forKey: .overlays) ?? []
        audio = try c.decodeIfPresent(TimelineAudio.self, forKey: .audio) ?? TimelineAudio()
        output = try c.decodeIfPresent(TimelineOutput.self, forKey: .output) ?? TimelineOutput()
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(version, forKey: .version)
        try c.encodeIfPresent(name, forKey: .name)
        try c.encode(video, forKey: .video)
        try c.encode(overlays, forKey: .overlays)
        try c.encode(audio, forKey: .audio)
        try c.encode(output, forKey: .output)
    }

    /// Every asset id the timeline names.
    public var assetNames: Set<String> {
        var names = Set(video.map(\.asset))
        names.formUnion(audio.voice.map(\.asset))
        names.formUnion(audio.effects.map(\.asset))
        if let music = audio.music { names.insert(music.asset) }
        return names
    }

    /// The index of the clip with `id`, if any.
    public func clipIndex(_ id: String) -> Int? { video.firstIndex { $0.id == id } }
}
