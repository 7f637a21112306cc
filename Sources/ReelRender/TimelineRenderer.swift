import CFFmpeg
import Foundation
import ReelBlocking
import ReelCore

/// Renders a `Timeline` to a file, in-process through libav.
///
/// Before any decoding: every asset is probed and the timeline validated against what was found
/// (a missing, corrupt or unsupported input fails naming the element that uses it), and overlay
/// fonts are resolved. Inputs that do not match the output's shape are normalised once into a
/// cache (`InputNormalizer`). Then the fast path (`StreamCopyCut`) when no clip needs
/// re-encoding; else the mixed path (`MixedRender`) when enough of the clips can be copied
/// around the transitions and overlays; each checked before it is kept; otherwise (or when
/// the check fails) the full path (`GraphRender`).
///
/// Blocking, and safe to run several at once on different threads. The output appears at its
/// path only when complete; a failure or a cancel leaves nothing there.
public struct TimelineRenderer: Sendable {
    public struct Options: Sendable, Hashable {
        /// Threads for decoding, filtering and encoding (each stage gets this many).
        public var threads: Int
        /// Where normalised copies of inputs are kept between renders; nil renders inputs as they are.
        public var normalizedDirectory: URL?
        /// Copy the clips' picture where nothing on it needs re-encoding (all of it, or around
        /// transitions and overlays); false always renders the full way.
        public var allowStreamCopy: Bool

        /// Bytes `normalizedDirectory` may hold after a render (least recently used files
        /// removed first, never one a render is reading); nil keeps everything.
        public var normalizedCacheBudget: Int64?

        public init(threads: Int = 2, normalizedDirectory: URL? = nil, normalizedCacheBudget: Int64? = nil, allowStreamCopy: Bool = true) {
            self.threads = max(1, threads)
            self.normalizedDirectory = normalizedDirectory
            self.normalizedCacheBudget = normalizedCacheBudget
            self.allowStreamCopy = allowStreamCopy
        }
    }

    public let options: Options
    public let fonts: FontCatalog
    /// Where a render's soundtrack is mixed while the caller's thread renders the picture.
    public let blocking: BlockingPool

    /// `blocking` should have a free thread for each render that runs at once; without one the
    /// renderer makes a pool of its own.
    public init(options: Options = Options(), fonts: FontCatalog = .standard, blocking: BlockingPool? = nil) {
        self.options = options
        self.fonts = fonts
        self.blocking = blocking ?? BlockingPool(maxThreads: 1, name: "reeld-sound")
    }

    /// The normalised copy of `url` for `output`'s shape (what a render with a
    /// `normalizedDirectory` makes of a clip of another shape), made in `directory` unless it is
    /// there already. Such copies join by the fast and mixed paths.
    public func normalizedCopy(of url: URL, for output: TimelineOutput, in directory: URL, control: RenderControl = RenderControl()) throws -> URL {
        let normalizer = InputNormalizer(directory: directory, output: output, threads: options.threads, blocking: blocking)
        return try normalizer.normalized(url, label: url.lastPathComponent, lease: NormalizedCache.Lease(), control: control).url
    }

    /// Probes every asset `timeline` names: facts for those that read, and the catalog
    /// validation needs (unreadable assets carry their reason; absent ones are left out).
    public static func inspect(_ timeline: Timeline, media: [String: URL]) -> (facts: [String: MediaFacts], catalog: [String: TimelineAsset]) {
        let names = timeline.assetNames
        var facts: [String: MediaFacts] = [:]
        var catalog: [String: TimelineAsset] = [:]
        for name in names.sorted() {
            guard let url = media[name] else { continue }
            do {
                let probed = try MediaProbe.probe(url)
                if let video = probed.videoStream, video.pixelFormat == nil || (video.width ?? 0) == 0 {
                    catalog[name] = TimelineAsset(unreadable: "libav cannot decode its picture (\(url.lastPathComponent))")
                    continue
                }
                if let video = probed.videoStream, let width = video.width, let height = video.height, width * height > MediaLimits.picturePixels {
                    catalog[name] = TimelineAsset(
                        unreadable: "its picture is \(width)x\(height), more than the \(MediaLimits.picturePixels) pixels (4096x4096) reeld decodes (\(url.lastPathComponent))")
                    continue
                }
                facts[name] = probed
                catalog[name] = TimelineAsset(
                    durationSeconds: probed.videoStream?.durationSeconds ?? probed.audioStream?.durationSeconds ?? probed.durationSeconds,
                    hasVideo: probed.hasVideo,
                    hasAudio: probed.hasAudio)
            } catch let error as MediaError {
                catalog[name] = TimelineAsset(unreadable: error.message + " (\(url.lastPathComponent))")
            } catch {
                catalog[name] = TimelineAsset(unreadable: "\(error)")
            }
        }
        return (facts, catalog)
    }

    /// Renders `timeline` to `url`, whose extension must match the output format.
    ///
    /// - Parameter media: the file for each asset id the timeline names.
    /// - Throws: `TimelineInvalid` before any work for a timeline that cannot be rendered;
    ///   `MediaError` naming the element and file when an input fails to decode;
    ///   `RenderCancelled` when `control` was cancelled.
    @discardableResult
    public func render(_ timeline: Timeline, media: [String: URL], to url: URL, control: RenderControl = RenderControl()) throws -> RenderReport {
        let format = timeline.output.format
        guard url.pathExtension.lowercased() == format.fileExtension else {
            throw TimelineInvalid(element: "output.format", "\(format.rawValue) output needs a .\(format.fileExtension) file name, not \(url.lastPathComponent)")
        }
        var (facts, catalog) = Self.inspect(timeline, media: media)
        try timeline.validate(assets: catalog)
        var fontFiles: [String: String] = [:]
        var problems: [TimelineProblem] = []
        for (i, overlay) in timeline.overlays.enumerated() {
            if let path = fonts.path(for: overlay.font) {
                fontFiles[overlay.id] = path
            } else {
                problems.append(TimelineProblem(
                    element: "overlays[\(i)] \"\(overlay.id)\"", message: "font \"\(overlay.font)\" is not installed; known: \(FontCatalog.knownNames)"))
            }
        }
        if !problems.isEmpty { throw TimelineInvalid(problems) }
        try control.checkCancelled()

        var media = media
        var normalized: [String] = []
        let lease = NormalizedCache.Lease()
        defer {
            // Eviction while this render's files are still locked, so they stay.
            if let directory = options.normalizedDirectory, let budget = options.normalizedCacheBudget {
                NormalizedCache(directory: directory, budgetBytes: budget).evict()
            }
            withExtendedLifetime(lease) {}
        }
        if let directory = options.normalizedDirectory {
            let normalizer = InputNormalizer(directory: directory, output: timeline.output, threads: options.threads, blocking: blocking)
            for (i, clip) in timeline.video.enumerated() {
                guard let url = media[clip.asset], let probed = facts[clip.asset], !normalizer.conforms(probed) else { continue }
                let result = try normalizer.normalized(url, label: "video[\(i)] \"\(clip.id)\"", lease: lease, control: control)
                media[clip.asset] = result.url
                facts[clip.asset] = result.facts
                if result.made { normalized.append(clip.asset) }
                catalog[clip.asset] = nil
            }
        }

        var reasons: [String] = []
        if options.allowStreamCopy {
            let cut = StreamCopyCut(timeline: timeline, media: media, facts: facts, threads: options.threads, control: control)
            switch cut.plan() {
            case .copy(let plan):
                do {
                    let (result, loudness) = try cut.render(plan, to: url)
                    return RenderReport(method: .streamCopy, facts: result, loudness: loudness, normalized: normalized, copiedFraction: 1, fullRenderReason: nil)
                } catch let error as FastPathMismatch {
                    reasons.append(error.description)
                }
            case .reencode(let why):
                reasons.append(why)
            }
            let mixed = MixedRender(
                timeline: timeline, media: media, facts: facts, fonts: fontFiles, threads: options.threads, control: control, blocking: blocking)
            switch try mixed.plan() {
            case .mix(let prepared):
                do {
                    let (result, loudness) = try mixed.render(prepared, to: url)
                    return RenderReport(
                        method: .mixed, facts: result, loudness: loudness, normalized: normalized,
                        copiedFraction: prepared.plan.copiedFraction, fullRenderReason: nil)
                } catch let error as FastPathMismatch {
                    reasons.append(error.description)
                }
            case .reencode(let why):
                reasons.append(why)
            }
        }
        let reason = reasons.isEmpty ? nil : reasons.joined(separator: "; ")
        // After a fast path that got some way and failed its check, progress goes on from there rather than back.
        let fullControl = control.lastFraction > 0 ? control.stage(from: control.lastFraction, to: 1) : control
        let loudness = try GraphRender(
            timeline: timeline, media: media, facts: facts, fonts: fontFiles, threads: options.threads, control: fullControl, blocking: blocking)
            .render(to: url)
        control.progress(1, force: true)
        return RenderReport(
            method: .filterGraph, facts: try MediaProbe.probe(url), loudness: loudness, normalized: normalized, copiedFraction: 0, fullRenderReason: reason)
    }
}
