import CFFmpeg
import Foundation

/// Measures loudness the way streaming platforms do (EBU R128 / ITU-R BS.1770 integrated
/// loudness, gated), with libavfilter's `ebur128`.
public enum LoudnessMeter {
    /// The integrated loudness of `url`'s sound in LUFS; nil for silence (below the −70 LUFS gate).
    public static func integratedLoudness(of url: URL) throws -> Double? {
        let reader = try AudioClipReader(url: url, in: 0, length: nil, label: url.lastPathComponent)
        let graph = try FilterGraph(name: "loudness meter", threads: 1)
        let source = try graph.audioSource(label: url.lastPathComponent, sampleRate: AudioClipReader.sampleRate, channels: AudioClipReader.channels, format: AV_SAMPLE_FMT_FLT)
        let meter = try graph.add("ebur128", ["metadata": "1"], inputs: [source.pad])
        let sink = try graph.sink(meter, audio: true)
        try graph.configure()
        var loudness: Double?
        try graph.run(sink: sink, feeds: [(source, reader)], control: RenderControl()) { frame in
            loudness = SoundtrackMixer.integratedLoudness(of: frame) ?? loudness
        }
        return loudness.flatMap { $0 > -69.9 ? $0 : nil }
    }
}
