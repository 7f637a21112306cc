import CFFmpeg
import Foundation
import ReelCore

/// Brings clips from different providers to one shape, once: the output's size (letterboxed or
/// pillarboxed), frame rate and pixel format as H.264, with stereo 48 kHz AAC sound. Kept in a
/// cache directory so later renders of the same cut (and of other cuts at that size) reuse them;
/// clips normalised alike share codec headers, so they can be joined by stream copy.
///
/// The cache key is the source file's path, size, modification time and inode plus the target
/// shape: storage never rewrites a file in place, so a changed file is a new key. Nothing is
/// evicted here; the directory can be emptied at any time.
struct InputNormalizer {
    /// Mezzanine quality: visibly lossless at x264's CRF 18, and fast to make.
    static let quality = 18

    let directory: URL
    let output: TimelineOutput
    let threads: Int

    /// Whether `facts` already has the normalised shape (then the file is used as it is).
    func conforms(_ facts: MediaFacts) -> Bool {
        guard let video = facts.videoStream, video.codecName == "h264", video.width == output.width, video.height == output.height,
              video.pixelFormat == "yuv420p", let fps = video.framesPerSecond, abs(fps - output.fps) < 0.01 else { return false }
        if let audio = facts.audioStream {
            return audio.codecName == "aac" && audio.sampleRate == SoundtrackMixer.sampleRate && audio.channels == 2
        }
        return true
    }

    /// The cached normalised copy of `url`, made now if missing (`made`).
    func normalized(_ url: URL, label: String, control: RenderControl) throws -> (url: URL, facts: MediaFacts, made: Bool) {
        let target = directory.appendingPathComponent(try key(for: url) + ".mp4")
        if FileManager.default.fileExists(atPath: target.path), let facts = try? MediaProbe.probe(target) {
            return (target, facts, false)
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let facts = try VideoClipReader.wrap(label) { () throws(MediaError) in
            do { return try MediaProbe.probe(url) } catch let error as MediaError { throw error } catch { throw MediaError(.probe, path: url.path, message: "\(error)") }
        }
        guard let seconds = facts.videoStream?.durationSeconds ?? facts.durationSeconds else {
            throw MediaError(.probe, path: url.path, message: "\(label): the clip does not say how long it is")
        }
        var profile = output
        profile.format = .mp4
        profile.loudness = nil
        profile.audioBitrate = 192_000
        // One clip, its own sound untouched: the full path does the work, with mezzanine settings.
        let clip = Timeline(video: [TimelineClip(id: "clip", asset: "source", in: 0, out: seconds)], output: profile)
        var render = GraphRender(
            timeline: clip, media: ["source": url], facts: ["source": facts], fonts: [:], threads: threads, control: control)
        render.encoding = .init(quality: Self.quality, stitchable: true, keyframeSeconds: 1, bFrames: 0)
        do {
            _ = try render.render(to: target)
        } catch let error as MediaError {
            throw error.naming(label)
        }
        return (target, try MediaProbe.probe(target), true)
    }

    private func key(for url: URL) throws -> String {
        var info = stat()
        guard stat(url.path, &info) == 0 else {
            throw MediaError(.open, path: url.path, message: "cannot read: \(String(cString: strerror(errno)))")
        }
        let identity = "\(url.standardizedFileURL.path)|\(info.st_size)|\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)|\(info.st_ino)"
        let shape = "\(output.width)x\(output.height)@\(output.fps)"
        return String(SeededRandom.hash(identity), radix: 16) + "-" + shape
    }
}
