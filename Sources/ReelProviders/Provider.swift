import Foundation
import ReelCore
import Logging

/// One interface for every generation service: OpenAI, Google, Kling, ElevenLabs, and `local`.
///
/// Adapters know their provider's wire format, not the queue: the engine calls `generate`,
/// and if the provider answers with a task (video is asynchronous almost everywhere), stores the
/// task, snoozes the job, and calls `poll` when a callback or the poll timer wakes it.
public protocol Provider: Sendable {
    /// The provider's name in config, job args and logs: "local", "openai", "google", "kling", "elevenlabs".
    var name: String { get }
    /// What this provider can make.
    var capabilities: Set<GenerationKind> { get }

    /// Starts a generation. `request.externalID` is stable across retries and recoveries: an
    /// adapter sends it where the provider accepts a client reference, and `lookup` uses it to
    /// find a task that was submitted before a crash, so a generation is paid for once.
    func generate(_ request: GenerationRequest, context: GenerationContext) async throws -> GenerationOutcome

    /// Asks about a task that `generate` returned as pending.
    func poll(_ task: ProviderTask, request: GenerationRequest, context: GenerationContext) async throws -> GenerationOutcome
}

/// What a generation makes.
public enum GenerationKind: String, Sendable, Codable, CaseIterable {
    /// Text, optionally constrained by a JSON Schema (structured output).
    case text
    /// An image from text, optionally with reference images.
    case image
    /// A video from text, or from a start frame and optionally an end frame.
    case video
    case speech
    case soundEffect = "sound_effect"
    case music
}

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

/// Where an adapter writes what it makes, and whom it tells.
public struct GenerationContext: Sendable {
    /// A scratch directory owned by this job attempt; the engine moves results into storage.
    public var workDirectory: URL
    public var logger: Logger

    public init(workDirectory: URL, logger: Logger) {
        self.workDirectory = workDirectory
        self.logger = logger
    }
}

/// A provider-side task: what the engine stores while the job waits.
public struct ProviderTask: Sendable, Hashable, Codable {
    public var provider: String
    public var id: String

    public init(provider: String, id: String) {
        self.provider = provider
        self.id = id
    }
}

/// The answer to `generate` or `poll`.
public enum GenerationOutcome: Sendable {
    case finished(GenerationResult)
    /// Still working: snooze the job, poll again after `pollAfter` or when a callback arrives.
    case pending(ProviderTask, pollAfter: Duration)
}

/// What a finished generation produced.
public struct GenerationResult: Sendable {
    /// Text output; for structured output, the parsed JSON.
    public var json: JSONValue?
    /// Files written under the context's work directory.
    public var files: [GeneratedFile]
    /// What was consumed, for the usage log and credits.
    public var usage: Usage
    /// The model that actually ran.
    public var model: String
    /// Anything the adapter wants to say honestly about the output (e.g. "template, not a model").
    public var notes: [String]

    public init(json: JSONValue? = nil, files: [GeneratedFile] = [], usage: Usage, model: String, notes: [String] = []) {
        self.json = json
        self.files = files
        self.usage = usage
        self.model = model
        self.notes = notes
    }
}

public struct GeneratedFile: Sendable, Hashable {
    public var url: URL
    public var mimeType: String

    public init(url: URL, mimeType: String) {
        self.url = url
        self.mimeType = mimeType
    }
}

/// Units consumed by a generation: seconds of video or audio, characters of speech, images, tokens.
public struct Usage: Sendable, Hashable, Codable {
    public var unit: String
    public var amount: Double

    public init(unit: String, amount: Double) {
        self.unit = unit
        self.amount = amount
    }
}
