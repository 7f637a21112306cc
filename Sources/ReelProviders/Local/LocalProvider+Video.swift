import Foundation
import ReelCore
import ReelRender

extension LocalProvider {
    func submitVideo(_ request: GenerationRequest) throws -> GenerationOutcome {
        let now = configuration.now()
        let candidate = LocalVideoTask(
            id: LocalVideoTask.id(for: request.externalID), externalID: request.externalID,
            createdAt: now, dueAt: now.addingTimeInterval(Self.seconds(configuration.videoDelay)))
        let task = try LocalVideoTask.recordIfAbsent(candidate, in: tasksDirectory)
        return .pending(ProviderTask(provider: name, id: task.id), pollAfter: remaining(until: task.dueAt, from: now))
    }

    func pollVideo(_ task: ProviderTask, request: GenerationRequest, workDirectory: URL) async throws -> GenerationOutcome {
        guard let record = try LocalVideoTask.load(id: task.id, from: tasksDirectory) else {
            // A task this provider no longer knows (its tasks directory was emptied or moved):
            // the local clip costs nothing, so it starts again rather than failing the job.
            return try submitVideo(request)
        }
        let now = configuration.now()
        if now < record.dueAt {
            return .pending(task, pollAfter: remaining(until: record.dueAt, from: now))
        }
        let options = ClipSynthesizer.Options(
            width: Self.even(request.width ?? configuration.defaultWidth),
            height: Self.even(request.height ?? configuration.defaultHeight),
            framesPerSecond: configuration.framesPerSecond,
            seconds: min(max(request.durationSeconds ?? configuration.defaultVideoSeconds, 0.5), 60))
        let output = workDirectory.appendingPathComponent("\(record.id).mp4")
        let seed = Self.seed(request)
        let facts = try await blocking {
            let start = try request.startFrame.map { try ImageIO.read($0, width: options.width, height: options.height) }
                ?? PromptArt.make(prompt: request.prompt, seed: seed, width: options.width, height: options.height)
            let end: RGBImage? = try request.endFrame.map { try ImageIO.read($0, width: options.width, height: options.height) }
                ?? (request.startFrame == nil
                    ? PromptArt.make(prompt: request.prompt, seed: seed &+ 1, width: options.width, height: options.height) : nil)
            return try ClipSynthesizer.makeClip(from: start, to: end, options: options, writingTo: output)
        }
        var notes = ["slow zoom and cross-dissolve between frames, not a video model"]
        if request.startFrame == nil { notes.append("frames drawn from the prompt's hash") }
        return .finished(GenerationResult(
            files: [GeneratedFile(url: output, mimeType: "video/mp4")],
            usage: Usage(unit: "video_seconds", amount: facts.durationSeconds ?? options.seconds),
            model: request.model ?? "reeld-local-clip", notes: notes))
    }

    private func remaining(until due: Date, from now: Date) -> Duration {
        .milliseconds(max(50, Int((due.timeIntervalSince(now) * 1000).rounded(.up))))
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func even(_ n: Int) -> Int { max(2, n - n % 2) }
}
