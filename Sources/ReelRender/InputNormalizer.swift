import CFFmpeg
import Foundation
import ReelBlocking
import ReelCore

/// Brings clips from different providers to one shape, once: the output's size (letterboxed or
/// pillarboxed), frame rate and pixel format as H.264, with stereo 48 kHz AAC sound. Kept in a
/// cache directory so later renders of the same cut (and of other cuts at that size) reuse them;
/// clips normalised alike share codec headers, so they can be joined by stream copy.
///
/// Every normalised file is encoded alike (`mezzanine`: one preset whatever the output's, CRF
/// 18, x264's stitchable headers, a keyframe each second, no B-frames), so the mixed path can
/// encode the segments between copied spans with the very headers the copies carry.
///
/// The cache key is the source file's path, size, modification time and inode plus the target
/// shape: storage never rewrites a file in place, so a changed file is a new key. A reused file's
/// modification time is set to now, so `NormalizedCache` evicts the least recently used first;
/// the directory can be emptied at any time between renders.
struct InputNormalizer {
    /// Mezzanine quality: visibly lossless at x264's CRF 18, and fast to make.
    static let quality = 18
    /// The mezzanine's x264 preset, fixed so the cache's files and the mixed path's segments
    /// share headers whatever preset an output asks for.
    static let preset = "veryfast"
    /// How normalised files (and the mixed path's segments) are encoded.
    static let encoding = GraphRender.Encoding(quality: quality, stitchable: true, keyframeSeconds: 1, bFrames: 0)
    /// Bumped when `encoding` changes, so files made the old way are not taken for current ones.
    static let version = "m2"

    /// The output a normalised file (or a mixed path's segment) is encoded for: `output`'s
    /// shape as H.264 in MP4 at the mezzanine preset.
    static func mezzanine(for output: TimelineOutput) -> TimelineOutput {
        var profile = output
        profile.format = .mp4
        profile.preset = preset
        profile.loudness = nil
        profile.audioBitrate = 192_000
        return profile
    }

    /// An encoder for `output`'s shape that writes exactly the headers normalised files carry.
    static func mezzanineEncoder(for output: TimelineOutput, threads: Int, path: String?) throws(MediaError) -> Encoder {
        try OutputEncoders.video(
            mezzanine(for: output), quality: encoding.quality, threads: threads, path: path, globalHeader: true,
            stitchable: encoding.stitchable, keyframeSeconds: encoding.keyframeSeconds, bFrames: encoding.bFrames)
    }

    let directory: URL
    let output: TimelineOutput
    let threads: Int
    let blocking: BlockingPool

    /// Whether `facts` already has the normalised shape (then the file is used as it is).
    func conforms(_ facts: MediaFacts) -> Bool {
        guard let video = facts.videoStream, video.pictureMismatch(codec: "h264", output: output) == nil else { return false }
        if let audio = facts.audioStream {
            return audio.codecName == "aac" && audio.sampleRate == SoundtrackMixer.sampleRate && audio.channels == 2
        }
        return true
    }

    /// The cached normalised copy of `url`, made now if missing (`made`), held by `lease` so
    /// no eviction removes it while the render reads it.
    func normalized(_ url: URL, label: String, lease: NormalizedCache.Lease, control: RenderControl) throws -> (url: URL, facts: MediaFacts, made: Bool) {
        let target = directory.appendingPathComponent(try key(for: url) + ".mp4")
        if FileManager.default.fileExists(atPath: target.path), lease.hold(target), let facts = try? MediaProbe.probe(target) {
            NormalizedCache.touch(target)
            return (target, facts, false)
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let facts = try VideoClipReader.wrap(label) { () throws(MediaError) in
            do { return try MediaProbe.probe(url) } catch let error as MediaError { throw error } catch { throw MediaError(.probe, path: url.path, message: "\(error)") }
        }
        guard let seconds = facts.videoStream?.durationSeconds ?? facts.durationSeconds else {
            throw MediaError(.probe, path: url.path, message: "\(label): the clip does not say how long it is")
        }
        let profile = Self.mezzanine(for: output)
        // One clip, its own sound untouched: the full path does the work, with mezzanine settings.
        let clip = Timeline(video: [TimelineClip(id: "clip", asset: "source", in: 0, out: seconds)], output: profile)
        var render = GraphRender(
            timeline: clip, media: ["source": url], facts: ["source": facts], fonts: [:], threads: threads, control: control,
            blocking: blocking)
        render.encoding = Self.encoding
        do {
            _ = try render.render(to: target)
        } catch let error as MediaError {
            throw error.naming(label)
        }
        _ = lease.hold(target)
        return (target, try MediaProbe.probe(target), true)
    }

    private func key(for url: URL) throws -> String {
        var info = stat()
        guard stat(url.path, &info) == 0 else {
            throw MediaError(.open, path: url.path, message: "cannot read: \(String(cString: strerror(errno)))")
        }
        let identity = "\(url.standardizedFileURL.path)|\(info.st_size)|\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)|\(info.st_ino)"
        let shape = "\(output.width)x\(output.height)@\(output.fps)"
        return String(SeededRandom.hash(identity), radix: 16) + "-" + shape + "-" + Self.version
    }
}
