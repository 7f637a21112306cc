import Foundation
import ReelBlocking
import ReelCore
import ReelRender
import UnixSignals

/// `reeld render`: renders a timeline file in this process, with the engine and fast paths of
/// the `render.export` job (`TimelineRenderer`) but no database and no daemon. The timeline's
/// asset ids are file paths (`TimelineFile`). Progress and the summary go to standard output;
/// Ctrl-C (or SIGTERM) cancels the render, which then leaves nothing at the output path.
public struct FileRender: Sendable {
    /// The timeline file's path.
    public var timeline: String
    /// The film's path; nil puts it beside the timeline, named after it, with its format's extension.
    public var output: String?
    public var threads: Int
    /// Where normalised copies of clips of another shape are kept between renders; nil normalises nothing.
    public var cacheDirectory: String?
    public var allowStreamCopy: Bool

    public init(timeline: String, output: String?, threads: Int, cacheDirectory: String?, allowStreamCopy: Bool) {
        self.timeline = timeline
        self.output = output
        self.threads = max(1, threads)
        self.cacheDirectory = cacheDirectory
        self.allowStreamCopy = allowStreamCopy
    }

    /// Renders, printing progress (a bar on a terminal, lines otherwise) and, at the end, the
    /// method, the duration and the file.
    /// - Throws: `RenderFailure`, whose code is the exit status to give.
    public func run() async throws(RenderFailure) {
        let progress = RenderProgress(style: RenderProgress.standardOutputStyle) { Self.standardOutput($0) }
        do {
            try await render(progress: progress)
        } catch let failure as RenderFailure {
            progress.finish()
            throw failure
        } catch {
            progress.finish()
            throw RenderFailure(.failed, "render failed: \(error)")
        }
    }

    private func render(progress: RenderProgress) async throws {
        var file = try TimelineFile(path: timeline)
        let target = try outputFile(for: &file)
        let options = TimelineRenderer.Options(
            threads: threads,
            normalizedDirectory: cacheDirectory.map { URL(fileURLWithPath: $0, isDirectory: true).standardizedFileURL },
            allowStreamCopy: allowStreamCopy)
        if let directory = options.normalizedDirectory {
            do {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            } catch {
                throw RenderFailure(.cannotCreate, "cannot make the cache directory \(directory.path): \(TimelineFile.reason(error))")
            }
        }

        let control = RenderControl(interval: .milliseconds(100)) { progress.report($0) }
        let renderer = TimelineRenderer(options: options)
        // The render blocks its thread for its whole length; the soundtrack runs on the renderer's own pool.
        let thread = BlockingPool(maxThreads: 1, name: "reeld-render")
        defer { thread.shutdown() }
        // Trapped before the render starts, so that Ctrl-C never takes the default action (which
        // would leave the half-written film's temporary file behind) but cancels the render.
        let interrupts = await UnixSignalsSequence(trapping: .sigint, .sigterm)
        let timeline = file.timeline, media = file.media
        let report: RenderReport
        do {
            report = try await withThrowingTaskGroup(of: RenderReport?.self) { group in
                group.addTask {
                    for await _ in interrupts { control.cancel() }
                    return nil
                }
                group.addTask {
                    try await thread.run { try renderer.render(timeline, media: media, to: target, control: control) }
                }
                // The render's report ends the group; the signal watcher ends with it.
                while let next = try await group.next() {
                    if let report = next {
                        group.cancelAll()
                        return report
                    }
                }
                throw CancellationError()
            }
        } catch is RenderCancelled {
            throw RenderFailure(.cancelled, "interrupted; nothing written to \(target.path)")
        } catch let invalid as TimelineInvalid {
            throw RenderFailure(.invalidTimeline, "\(self.timeline): " + invalid.description)
        } catch let error as MediaError {
            throw RenderFailure(.failed, "render failed: \(error.description)")
        }
        progress.report(1)
        progress.finish()
        Self.standardOutput(Self.summary(report, output: target, streamCopyAllowed: allowStreamCopy))
    }

    /// The file to write and the format that goes with it: the extension decides, unless the
    /// timeline names its format, when they must agree.
    private func outputFile(for file: inout TimelineFile) throws(RenderFailure) -> URL {
        let url: URL
        if let output {
            url = URL(fileURLWithPath: output).standardizedFileURL
            let known = OutputFormat.allCases.map { "." + $0.fileExtension }.joined(separator: " or ")
            guard let format = OutputFormat(rawValue: url.pathExtension.lowercased()) else {
                throw RenderFailure(.usage, "cannot tell the format of \(output): name the output \(known)")
            }
            if file.namesFormat, format != file.timeline.output.format {
                let wanted = file.timeline.output.format
                throw RenderFailure(
                    .usage,
                    "\(output) is .\(format.fileExtension) but the timeline's output.format is \(wanted.rawValue): name the output .\(wanted.fileExtension), or change output.format")
            }
            file.timeline.output.format = format
        } else {
            url = file.url.deletingPathExtension().appendingPathExtension(file.timeline.output.format.fileExtension)
        }
        var isDirectory: ObjCBool = false
        let directory = url.deletingLastPathComponent()
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw RenderFailure(.cannotCreate, "cannot write \(url.path): no directory \(directory.path)")
        }
        return url
    }

    /// What the render did, for the end of the output.
    static func summary(_ report: RenderReport, output: URL, streamCopyAllowed: Bool) -> String {
        let method = switch report.method {
        case .streamCopy: "copy (every frame copied from the clips)"
        case .mixed: "mixed (\(Int((report.copiedFraction * 100).rounded()))% of frames copied, the rest encoded)"
        case .filterGraph:
            "full (every frame encoded; " + (streamCopyAllowed ? report.fullRenderReason ?? "no fast path" : "--no-stream-copy") + ")"
        }
        let seconds = report.facts.videoStream?.durationSeconds ?? report.facts.durationSeconds ?? 0
        var streams: [String] = []
        if let video = report.facts.videoStream {
            streams.append("\(video.codecName) \(video.width ?? 0)x\(video.height ?? 0)")
        }
        if let audio = report.facts.audioStream { streams.append(audio.codecName) }
        return """
            method: \(method)
            duration: \(String(format: "%.2f", seconds)) s
            output: \(output.path) (\(streams.joined(separator: " + ")))

            """
    }

    /// Straight to the descriptor, unbuffered, so the progress and the summary keep their order.
    static func standardOutput(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
