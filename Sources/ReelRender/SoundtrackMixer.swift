import CFFmpeg
import Foundation
import ReelCore

/// Mixes a timeline's sound in one libavfilter graph: the clips' own sound (crossfaded under
/// the picture's transitions), voice lines, the music bed (faded, and ducked under the voice by a
/// computed envelope through `amultiply`) and sound effects, placed after their readers' leading silence, summed with
/// `amix`, and padded or cut to exactly the film's length.
///
/// Loudness takes two passes over the same graph: the first measures the mix's integrated
/// loudness with `ebur128`, the second applies the gain that reaches the target, with `alimiter`
/// keeping peaks under −1 dBFS, and encodes. The mix is never held in memory: a long film
/// costs no more RAM than a short one.
final class SoundtrackMixer {
    static let sampleRate = AudioClipReader.sampleRate
    /// −1 dBFS: the ceiling the limiter holds peaks under.
    static let peakCeiling = 0.891

    let timeline: Timeline
    let layout: TimelineLayout
    let media: [String: URL]
    let facts: [String: MediaFacts]
    let threads: Int
    let control: RenderControl
    /// Computed once (it decodes the voice) and shared by every pass.
    private var envelope: DuckingEnvelope??

    init(timeline: Timeline, media: [String: URL], facts: [String: MediaFacts], threads: Int, control: RenderControl) {
        self.timeline = timeline
        self.layout = timeline.layout
        self.media = media
        self.facts = facts
        self.threads = threads
        self.control = control
    }

    /// Samples in the film's soundtrack.
    var totalSamples: Int { Int((layout.duration * Double(Self.sampleRate)).rounded()) }

    /// Integrated loudness (LUFS) of the mix with `gainDB` applied (and the peak limiter, when
    /// there is a gain); nil for silence.
    func measureLoudness(gainDB: Double? = nil, progress: (Double) -> Void = { _ in }) throws -> Double? {
        let envelope = try duckingEnvelope()
        let built = try build(envelope: envelope, gainDB: gainDB, sampleFormat: AV_SAMPLE_FMT_FLTP, frameSize: nil)
        var loudness: Double?
        let total = Double(max(1, totalSamples))
        try built.graph.run(sink: built.sink, feeds: built.feeds, control: control) { frame in
            loudness = Self.integratedLoudness(of: frame) ?? loudness
            progress(Double(frame.pointee.pts + Int64(frame.pointee.nb_samples)) / total)
        }
        return loudness.flatMap { $0 > -69.9 ? $0 : nil }
    }

    /// The gain, in dB, that brings the mix to `target` LUFS: measured, then corrected after the
    /// limiter (which takes some loudness off peaky sound) until within half a LU, at most twice.
    /// Nil when the mix is silent.
    func gain(toReach target: Double, progress: (Double) -> Void = { _ in }) throws -> Double? {
        guard let measured = try measureLoudness(progress: { progress(0.5 * $0) }) else { return nil }
        var gain = Self.clampGain(target - measured)
        for pass in 0..<2 {
            guard let limited = try measureLoudness(gainDB: gain, progress: { progress(0.5 + 0.25 * (Double(pass) + $0)) }) else { break }
            let error = target - limited
            if abs(error) <= 0.5 { break }
            gain = Self.clampGain(gain + error)
        }
        return gain
    }

    /// The whole soundtrack, brought to the output's loudness target (if any) and encoded;
    /// each packet goes to `body`. Returns the loudness it reached.
    func encodedSoundtrack(
        with encoder: Encoder, progress: (Double) -> Void = { _ in }, _ body: (UnsafeMutablePointer<AVPacket>) throws -> Void
    ) throws -> Double? {
        var level: Double?
        if let target = timeline.output.loudness { level = try gain(toReach: target, progress: { progress(0.5 * $0) }) }
        return try encode(gainDB: level, with: encoder, progress: { progress(0.5 + 0.5 * $0) }, body)
    }

    /// A gain no larger than 40 dB either way: more would only amplify noise or bury the film.
    static func clampGain(_ db: Double) -> Double { min(max(db, -40), 40) }

    /// Mixes with `gainDB` applied and hands each encoded packet to `body`.
    /// Returns the loudness measured after the gain and limiter (nil for silence).
    func encode(
        gainDB: Double?, with encoder: Encoder, progress: (Double) -> Void = { _ in },
        _ body: (UnsafeMutablePointer<AVPacket>) throws -> Void
    ) throws -> Double? {
        let envelope = try duckingEnvelope()
        let ctx = encoder.context
        let frameSize = ctx.pointee.frame_size > 0 ? Int(ctx.pointee.frame_size) : nil
        let built = try build(envelope: envelope, gainDB: gainDB, sampleFormat: ctx.pointee.sample_fmt, frameSize: frameSize)
        var loudness: Double?
        let total = Double(max(1, totalSamples))
        try built.graph.run(sink: built.sink, feeds: built.feeds, control: control) { frame in
            loudness = Self.integratedLoudness(of: frame) ?? loudness
            try encoder.encode(frame, body)
            progress(Double(frame.pointee.pts + Int64(frame.pointee.nb_samples)) / total)
        }
        try encoder.encode(nil, body)
        return loudness.flatMap { $0 > -69.9 ? $0 : nil }
    }

    // MARK: The graph

    private struct Built {
        let graph: FilterGraph
        let sink: UnsafeMutablePointer<AVFilterContext>
        let feeds: [(FilterGraph.Source, any FrameFeed)]
    }

    private func build(envelope: DuckingEnvelope?, gainDB: Double?, sampleFormat: AVSampleFormat, frameSize: Int?) throws(MediaError) -> Built {
        let graph = try FilterGraph(name: "soundtrack graph", threads: threads)
        var feeds: [(FilterGraph.Source, any FrameFeed)] = []
        var mixed: [FilterGraph.Pad] = []
        let film = layout.duration
        let rate = Double(Self.sampleRate)

        // Each sound's reader plays silence until the sound's place in the film (rather than
        // `adelay`, which would ask every reader for its samples from the start, and so open every file at once).
        func source(_ label: String, url: URL, in inPoint: Double, length: Double, at: Double) throws(MediaError) -> FilterGraph.Pad {
            let reader = AudioClipReader(url: url, in: inPoint, length: length, delay: at, label: label)
            let source = try graph.audioSource(label: label, sampleRate: Self.sampleRate, channels: AudioClipReader.channels, format: AV_SAMPLE_FMT_FLT)
            feeds.append((source, reader))
            return source.pad
        }
        func gain(_ pad: FilterGraph.Pad, _ volume: Double) throws(MediaError) -> FilterGraph.Pad {
            volume == 1 ? pad : try graph.add("volume", ["volume": String(volume), "precision": "float"], inputs: [pad])
        }
        func fade(_ pad: FilterGraph.Pad, _ type: String, start: Double, duration: Double) throws(MediaError) -> FilterGraph.Pad {
            duration > 0 ? try graph.add("afade", ["t": type, "st": String(max(0, start)), "d": String(duration)], inputs: [pad]) : pad
        }
        func length(of asset: String, from inPoint: Double, to outPoint: Double?, at: Double) -> Double {
            let end = outPoint ?? facts[asset]?.audioStream?.durationSeconds ?? facts[asset]?.durationSeconds ?? (inPoint + film)
            return max(0, min(end - inPoint, film - at))
        }

        // The clips' own sound, crossfaded where the picture crossfades.
        for (i, clip) in timeline.video.enumerated() where clip.volume > 0 && facts[clip.asset]?.hasAudio == true {
            guard let url = media[clip.asset] else { continue }
            let seconds = layout.seconds(layout.clipFrames[i])
            let start = layout.start(i)
            var pad = try source("video[\(i)] \"\(clip.id)\" sound", url: url, in: clip.inPoint, length: seconds, at: start)
            pad = try gain(pad, clip.volume)
            pad = try fade(pad, "in", start: start, duration: layout.seconds(layout.incomingFrames(i)))
            let outgoing = layout.seconds(layout.transitionFrames[i])
            pad = try fade(pad, "out", start: start + seconds - outgoing, duration: outgoing)
            mixed.append(pad)
        }
        for (track, sounds) in [("audio.voice", timeline.audio.voice), ("audio.effects", timeline.audio.effects)] {
            for (i, sound) in sounds.enumerated() where sound.volume > 0 {
                guard let url = media[sound.asset] else { continue }
                let seconds = length(of: sound.asset, from: sound.inPoint, to: sound.outPoint, at: sound.at)
                guard seconds > 0 else { continue }
                let pad = try source("\(track)[\(i)] \"\(sound.id)\"", url: url, in: sound.inPoint, length: seconds, at: sound.at)
                mixed.append(try gain(pad, sound.volume))
            }
        }
        if let music = timeline.audio.music, music.volume > 0, let url = media[music.asset] {
            let seconds = length(of: music.asset, from: music.inPoint, to: music.outPoint, at: music.at)
            if seconds > 0 {
                var pad = try source("audio.music", url: url, in: music.inPoint, length: seconds, at: music.at)
                pad = try gain(pad, music.volume)
                pad = try fade(pad, "in", start: music.at, duration: min(music.fadeIn, seconds))
                pad = try fade(pad, "out", start: music.at + seconds - min(music.fadeOut, seconds), duration: min(music.fadeOut, seconds))
                if let envelope {
                    let feed = EnvelopeFeed(envelope: envelope, samples: Int(((music.at + seconds) * rate).rounded()))
                    let source = try graph.audioSource(label: "ducking envelope", sampleRate: Self.sampleRate, channels: 2, format: AV_SAMPLE_FMT_FLT)
                    feeds.append((source, feed))
                    pad = try graph.add("amultiply", inputs: [pad, source.pad])
                }
                mixed.append(pad)
            }
        }

        var mix: FilterGraph.Pad
        switch mixed.count {
        case 0:
            mix = try graph.add("anullsrc", ["sample_rate": String(Self.sampleRate), "channel_layout": "stereo"], inputs: [])
        case 1:
            mix = mixed[0]
        default:
            // normalize=0: a sum, not an average, so levels do not depend on how many sounds overlap.
            mix = try graph.add("amix", ["inputs": String(mixed.count), "duration": "longest", "dropout_transition": "0", "normalize": "0"], inputs: mixed)
        }
        let samples = String(totalSamples)
        mix = try graph.chain(mix, [
            ("aformat", ["sample_fmts": "fltp", "sample_rates": String(Self.sampleRate), "channel_layouts": "stereo"]),
            ("apad", ["whole_len": samples]),
            ("atrim", ["end_sample": samples]),
        ])
        if let gainDB {
            mix = try graph.chain(mix, [
                ("volume", ["volume": "\(gainDB)dB", "precision": "float"]),
                // level=0: no automatic make-up gain; latency=1: no added delay against the picture.
                ("alimiter", ["limit": String(Self.peakCeiling), "level": "0", "latency": "1", "attack": "5", "release": "50"]),
            ])
        }
        mix = try graph.chain(mix, [
            ("ebur128", ["metadata": "1"]),
            ("aformat", ["sample_fmts": String(cString: av_get_sample_fmt_name(sampleFormat)), "sample_rates": String(Self.sampleRate), "channel_layouts": "stereo"]),
        ])
        if let frameSize {
            // The encoder's frame size, cut here rather than in the sink so that each frame
            // keeps the loudness the meter above attached to it.
            mix = try graph.add("asetnsamples", ["nb_out_samples": String(frameSize), "pad": "0"], inputs: [mix])
        }
        let sink = try graph.sink(mix, audio: true)
        try graph.configure()
        return Built(graph: graph, sink: sink, feeds: feeds)
    }

    // MARK: Ducking

    /// The envelope the music is multiplied by, from the voice lines' levels; nil when nothing ducks.
    private func duckingEnvelope() throws -> DuckingEnvelope? {
        if let envelope { return envelope }
        let made = try makeDuckingEnvelope()
        envelope = .some(made)
        return made
    }

    private func makeDuckingEnvelope() throws -> DuckingEnvelope? {
        guard let music = timeline.audio.music, let ducking = music.ducking, ducking.depthDB > 0 else { return nil }
        let voices = timeline.audio.voice.filter { $0.volume > 0 && media[$0.asset] != nil }
        guard !voices.isEmpty else { return nil }
        let windowSamples = Int(DuckingEnvelope.window * Double(Self.sampleRate))
        let windows = Int((layout.duration / DuckingEnvelope.window).rounded(.up))
        var energy = [Double](repeating: 0, count: windows)
        let frame = Frame()
        for (i, voice) in timeline.audio.voice.enumerated() where voice.volume > 0 {
            guard let url = media[voice.asset] else { continue }
            let film = layout.duration
            let end = voice.outPoint ?? facts[voice.asset]?.durationSeconds ?? film
            let seconds = max(0, min(end - voice.inPoint, film - voice.at))
            let reader = AudioClipReader(url: url, in: voice.inPoint, length: seconds, label: "audio.voice[\(i)] \"\(voice.id)\"")
            var position = Int((voice.at * Double(Self.sampleRate)).rounded())
            let gain = voice.volume * voice.volume
            while try reader.next(into: frame.pointer) {
                try control.checkCancelled()
                let count = Int(frame.pointer.pointee.nb_samples)
                let samples = UnsafeRawPointer(frame.pointer.pointee.data.0!).assumingMemoryBound(to: Float.self)
                for n in 0..<count {
                    let w = (position + n) / windowSamples
                    guard w < windows else { break }
                    let mono = Double(samples[2 * n] + samples[2 * n + 1]) / 2
                    energy[w] += mono * mono * gain
                }
                position += count
                av_frame_unref(frame.pointer)
            }
        }
        let levels = energy.map { 10 * log10(max($0 / Double(windowSamples), 1e-12)) }
        return DuckingEnvelope(levels: levels, ducking: ducking)
    }

    /// `lavfi.r128.I` from a frame that went through `ebur128=metadata=1`.
    static func integratedLoudness(of frame: UnsafeMutablePointer<AVFrame>) -> Double? {
        guard let entry = av_dict_get(frame.pointee.metadata, "lavfi.r128.I", nil, 0), let value = entry.pointee.value else { return nil }
        return Double(String(cString: value))
    }
}

/// Feeds the ducking envelope as stereo float samples, one gain per sample, from film time 0.
final class EnvelopeFeed: FrameFeed {
    let envelope: DuckingEnvelope
    let samples: Int
    private var position = 0

    init(envelope: DuckingEnvelope, samples: Int) {
        self.envelope = envelope
        self.samples = samples
    }

    func next(into frame: UnsafeMutablePointer<AVFrame>) throws(MediaError) -> Bool {
        let count = min(AudioClipReader.frameSize, samples - position)
        guard count > 0 else { return false }
        frame.pointee.format = AV_SAMPLE_FMT_FLT.rawValue
        frame.pointee.sample_rate = Int32(SoundtrackMixer.sampleRate)
        frame.pointee.nb_samples = Int32(count)
        av_channel_layout_default(&frame.pointee.ch_layout, 2)
        try check(av_frame_get_buffer(frame, 0), .encode, path: nil, "allocating the ducking envelope")
        let out = UnsafeMutableRawPointer(frame.pointee.data.0!).assumingMemoryBound(to: Float.self)
        let rate = Double(SoundtrackMixer.sampleRate)
        for n in 0..<count {
            let g = envelope.linearGain(at: Double(position + n) / rate)
            out[2 * n] = g
            out[2 * n + 1] = g
        }
        frame.pointee.pts = Int64(position)
        position += count
        return true
    }
}
