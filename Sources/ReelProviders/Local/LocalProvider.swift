import Foundation
import ReelBlocking
import ReelCore
import ReelRender

/// The offline provider: makes real, playable media for every kind with libav (through
/// ReelRender), deterministic from the prompt and seed, so pipelines, renders and tests run with
/// no network and no keys. Nothing it makes is a model's output, and its results say so in `notes`.
///
/// Video is asynchronous like the real providers: `generate` records a task in
/// `tasksDirectory` (keyed by the request's external id, so a repeated `generate` finds the same
/// task) and `poll` makes the clip once the task is due. Asked about a task it has no record
/// of, it starts the task again: its work costs nothing, so starting over is always safe.
public struct LocalProvider: Provider {
    public struct Configuration: Sendable {
        /// How long a video task stays pending before `poll` makes the clip.
        public var videoDelay: Duration
        /// Image and video size when the request gives none.
        public var defaultWidth: Int
        public var defaultHeight: Int
        public var framesPerSecond: Int
        /// Lengths when the request gives none.
        public var defaultVideoSeconds: Double
        public var defaultMusicSeconds: Double
        public var defaultSoundEffectSeconds: Double
        /// Speaking rate of the speech-like placeholder.
        public var speechCharactersPerSecond: Double
        /// The clock deciding when a video task is due; injected so tests need not sleep.
        public var now: @Sendable () -> Date

        public init(
            videoDelay: Duration = .seconds(1), defaultWidth: Int = 640, defaultHeight: Int = 360, framesPerSecond: Int = 24,
            defaultVideoSeconds: Double = 5, defaultMusicSeconds: Double = 30, defaultSoundEffectSeconds: Double = 2,
            speechCharactersPerSecond: Double = 14, now: @escaping @Sendable () -> Date = { Date() }
        ) {
            self.videoDelay = videoDelay
            self.defaultWidth = defaultWidth
            self.defaultHeight = defaultHeight
            self.framesPerSecond = framesPerSecond
            self.defaultVideoSeconds = defaultVideoSeconds
            self.defaultMusicSeconds = defaultMusicSeconds
            self.defaultSoundEffectSeconds = defaultSoundEffectSeconds
            self.speechCharactersPerSecond = speechCharactersPerSecond
            self.now = now
        }
    }

    public let name = "local"
    public let capabilities = Set(GenerationKind.allCases)
    /// Nothing is paid and nothing kept elsewhere: a generation cut short is simply made again.
    public func recoveryRule(for kind: GenerationKind) -> RecoveryRule { .resubmit }
    public let tasksDirectory: URL
    public let configuration: Configuration
    /// Where the media is made: libav blocks.
    public let pool: BlockingPool

    /// - Parameter tasksDirectory: where pending video tasks are recorded; created if missing.
    ///   It should outlive a process restart, so a recovered job finds its task.
    /// - Parameter pool: the node's pool for blocking work; without one the provider makes its
    ///   own, a thread per core.
    public init(tasksDirectory: URL, configuration: Configuration = Configuration(), pool: BlockingPool? = nil) {
        self.tasksDirectory = tasksDirectory
        self.configuration = configuration
        self.pool = pool ?? BlockingPool(maxThreads: ProcessInfo.processInfo.activeProcessorCount, name: "reeld-local")
    }

    public func generate(_ request: GenerationRequest, context: GenerationContext) async throws -> GenerationOutcome {
        try prepare(context.workDirectory)
        try checkPictureSize(request)
        switch request.kind {
        case .text:
            return .finished(storyboard(for: request))
        case .image:
            return .finished(try await blocking { try makeImage(request, in: context.workDirectory) })
        case .video:
            return try submitVideo(request)
        case .speech, .soundEffect, .music:
            return .finished(try await blocking { try makeAudio(request, in: context.workDirectory) })
        }
    }

    public func poll(_ task: ProviderTask, request: GenerationRequest, context: GenerationContext) async throws -> GenerationOutcome {
        guard task.provider == name else {
            throw JobError.permanent("local provider asked about a \(task.provider) task", detail: ["task": .string(task.id)])
        }
        try prepare(context.workDirectory)
        return try await pollVideo(task, request: request, workDirectory: context.workDirectory)
    }

    /// A file name part made from the external id: readable, and distinct for distinct ids.
    static func fileStem(for externalID: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
        let kept = String(externalID.prefix(64).filter { allowed.contains($0) })
        if kept == externalID && !kept.isEmpty { return kept }
        return kept + "-" + String(SeededRandom.hash(externalID), radix: 16)
    }

    static func seed(_ request: GenerationRequest) -> UInt64 {
        SeededRandom.hash(request.prompt) ^ (request.seed ?? 0)
    }

    /// Refuses a picture larger than `MediaLimits.picturePixels` before any of it is drawn: a
    /// 16384 × 16384 image would be 805 MB of RGB, held by every worker making one.
    func checkPictureSize(_ request: GenerationRequest) throws {
        guard request.kind == .image || request.kind == .video else { return }
        let width = request.width ?? configuration.defaultWidth, height = request.height ?? configuration.defaultHeight
        let pixels = width.multipliedReportingOverflow(by: height)
        if pixels.overflow || pixels.partialValue > MediaLimits.picturePixels {
            throw JobError.permanent(
                "local provider: \(width)x\(height) is more than the \(MediaLimits.picturePixels) pixels (4096x4096) a picture may have",
                detail: ["width": .int(Int64(width)), "height": .int(Int64(height))])
        }
    }

    private func prepare(_ directory: URL) throws {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw JobError("cannot create work directory \(directory.path): \(error)", class: .transient)
        }
    }

    /// Runs libav work on the blocking pool: it blocks for up to seconds and must not hold a
    /// cooperative-pool thread. Media errors become permanent job errors (the same input fails
    /// the same way again).
    func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        do {
            return try await pool.run(work)
        } catch let error as MediaError {
            throw JobError.permanent(
                "local provider: \(error)",
                detail: ["operation": .string(error.operation.rawValue), "path": error.path.map(JSONValue.string) ?? .null])
        }
    }
}
