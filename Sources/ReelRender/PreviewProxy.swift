import CFFmpeg
import Foundation
import ReelCore

/// A small, quick-to-load copy of a film for review in the browser: H.264 at 360 lines (or the
/// film's own height, if less) in MP4,
/// the sound copied when it is already AAC (re-encoded to AAC otherwise).
public enum PreviewProxy {
    /// Writes the proxy of `film` to `url` (an `.mp4`, through a temporary name) and returns what libav reads back.
    @discardableResult
    public static func make(from film: URL, to url: URL, height: Int = 360, threads: Int = 2, control: RenderControl = RenderControl()) throws -> MediaFacts {
        let facts = try MediaProbe.probe(film)
        guard let video = facts.videoStream, let sourceWidth = video.width, let sourceHeight = video.height, let seconds = video.durationSeconds ?? facts.durationSeconds else {
            throw MediaError(.invalidInput, path: film.path, message: "a preview needs a video of known size and length")
        }
        // Never larger than the film: a proxy of a small film is the film's own size.
        let height = max(2, min(height, sourceHeight) & ~1)
        let width = max(2, Int((Double(sourceWidth) * Double(height) / Double(sourceHeight)).rounded()) & ~1)
        let fps = video.framesPerSecond ?? 30
        let output = TimelineOutput(format: .mp4, width: width, height: height, fps: fps, quality: 28, preset: "veryfast", audioBitrate: 96_000)

        let file = try OutputFile(url)
        let encoder = try OutputEncoders.video(output, threads: threads, path: url.path, globalHeader: file.wantsGlobalHeader)
        let videoOut = try file.addStream(for: encoder)
        let reader = try VideoClipReader(url: film, in: 0, out: seconds, threads: threads, label: film.lastPathComponent)
        let sound = try soundtrack(of: film, facts: facts, output: output, file: file, control: control)
        try file.writeHeader(faststart: true)
        if let sound { try sound.fill() }

        let graph = try FilterGraph(name: "preview graph", threads: threads)
        let source = try graph.videoSource(
            label: film.lastPathComponent, width: reader.width, height: reader.height, format: reader.pixelFormat,
            timeBase: reader.timeBase, sampleAspect: reader.sampleAspect, frameRate: reader.frameRate)
        let scaled = try graph.chain(source.pad, [
            ("scale", ["w": String(width), "h": String(height), "flags": "bicubic"]), ("setsar", ["sar": "1"]), ("format", ["pix_fmts": "yuv420p"]),
        ])
        let sink = try graph.sink(scaled, audio: false)
        try graph.configure()
        let sinkBase = av_buffersink_get_time_base(sink)
        let base = encoder.context.pointee.time_base
        let write: (UnsafeMutablePointer<AVPacket>) throws -> Void = { packet in
            if packet.pointee.duration == 0 { packet.pointee.duration = 1 }
            if let sound { try sound.queue.write(until: packet.pointee.dts, in: base, to: file, stream: sound.stream) }
            try file.write(packet, from: base, to: videoOut)
        }
        try graph.run(sink: sink, feeds: [(source, reader)], control: control) { frame in
            frame.pointee.pts = av_rescale_q(frame.pointee.pts, sinkBase, base)
            frame.pointee.pict_type = AV_PICTURE_TYPE_NONE
            try encoder.encode(frame, write)
            control.progress(Double(frame.pointee.pts) * av_q2d(base) / seconds)
        }
        try encoder.encode(nil, write)
        if let sound { try sound.queue.writeRemaining(to: file, stream: sound.stream) }
        try file.finish()
        return try MediaProbe.probe(url)
    }

    /// The film's sound for the proxy: its AAC packets as they are, or re-encoded to AAC.
    private final class Sound {
        let queue: PacketQueue
        let stream: UnsafeMutablePointer<AVStream>
        let fill: () throws -> Void
        init(queue: PacketQueue, stream: UnsafeMutablePointer<AVStream>, fill: @escaping () throws -> Void) {
            self.queue = queue
            self.stream = stream
            self.fill = fill
        }
    }

    private static func soundtrack(of film: URL, facts: MediaFacts, output: TimelineOutput, file: OutputFile, control: RenderControl) throws -> Sound? {
        guard let audio = facts.audioStream else { return nil }
        if audio.codecName == "aac" {
            let input = try InputFile(film)
            let source = try input.bestStream(AVMEDIA_TYPE_AUDIO)
            let stream = try file.addStream(copying: source)
            let queue = PacketQueue(timeBase: source.pointee.time_base)
            return Sound(queue: queue, stream: stream) {
                try input.forEachPacket { packet in
                    if packet.pointee.stream_index == source.pointee.index { try queue.append(packet) }
                }
            }
        }
        let encoder = try OutputEncoders.audio(output, path: file.url.path, globalHeader: file.wantsGlobalHeader)
        let stream = try file.addStream(for: encoder)
        let queue = PacketQueue(timeBase: encoder.context.pointee.time_base)
        return Sound(queue: queue, stream: stream) {
            let reader = AudioClipReader(url: film, in: 0, length: nil, label: film.lastPathComponent)
            let graph = try FilterGraph(name: "preview sound", threads: 1)
            let source = try graph.audioSource(label: "sound", sampleRate: AudioClipReader.sampleRate, channels: 2, format: AV_SAMPLE_FMT_FLT)
            let formatted = try graph.add("aformat", ["sample_fmts": "fltp"], inputs: [source.pad])
            let sink = try graph.sink(formatted, audio: true)
            try graph.configure()
            av_buffersink_set_frame_size(sink, UInt32(encoder.context.pointee.frame_size))
            try graph.run(sink: sink, feeds: [(source, reader)], control: control) { frame in try encoder.encode(frame) { try queue.append($0) } }
            try encoder.encode(nil) { try queue.append($0) }
        }
    }
}
