import Foundation
import ReelCore

/// One generation request, in provider-neutral terms. Adapters map it onto their API.
public struct GenerationRequest: Sendable, Hashable {
    public var kind: GenerationKind
    /// Provider model name ("gpt-image-1", "veo-3.1", "kling-v2-5"); nil takes the provider's default.
    public var model: String?
    /// The prompt; for speech, the text to speak.
    public var prompt: String
    public var negativePrompt: String?
    /// For text: a JSON Schema the answer must match (structured output).
    public var responseSchema: JSONValue?
    /// For image: reference images (the hero shot, a character sheet).
    public var referenceImages: [URL]
    /// For video: the first and (optionally) last frame.
    public var startFrame: URL?
    public var endFrame: URL?
    /// For video and audio: the length wanted.
    public var durationSeconds: Double?
    /// For image and video.
    public var width: Int?
    public var height: Int?
    /// For speech: the voice.
    public var voice: String?
    public var seed: UInt64?
    /// Stable id for this generation (the generations row id): the idempotency key sent to providers.
    public var externalID: String
    /// When an earlier attempt's create call for this generation went out, if one did: a
    /// lookup at a provider that takes no client reference searches for work made since then.
    public var earlierCallSentAt: Date?

    public init(
        kind: GenerationKind, model: String? = nil, prompt: String, negativePrompt: String? = nil,
        responseSchema: JSONValue? = nil, referenceImages: [URL] = [], startFrame: URL? = nil, endFrame: URL? = nil,
        durationSeconds: Double? = nil, width: Int? = nil, height: Int? = nil, voice: String? = nil, seed: UInt64? = nil,
        externalID: String
    ) {
        self.kind = kind
        self.model = model
        self.prompt = prompt
        self.negativePrompt = negativePrompt
        self.responseSchema = responseSchema
        self.referenceImages = referenceImages
        self.startFrame = startFrame
        self.endFrame = endFrame
        self.durationSeconds = durationSeconds
        self.width = width
        self.height = height
        self.voice = voice
        self.seed = seed
        self.externalID = externalID
    }
}
