import Foundation
import ReelCore
import Synchronization
import Testing

@testable import ReelRender

/// A render holds files (demuxers, decoders) only for the clips and sounds playing now, not one
/// for every clip of the timeline from the start.
@Suite struct OpenInputsTests {
    /// How many of this process's file descriptors are open on `url` right now.
    static func openCount(_ url: URL) -> Int {
        let target = url.resolvingSymlinksInPath().path
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return fds.filter { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)")) == target }.count
    }

    /// The most files open on `url` seen at any progress report of a render.
    final class Peak: Sendable {
        let url: URL
        let most = Mutex(0)
        let reports = Mutex(0)
        init(_ url: URL) { self.url = url }
        func sample() {
            let now = OpenInputsTests.openCount(url)
            most.withLock { $0 = max($0, now) }
            reports.withLock { $0 += 1 }
        }
    }

    static let clipCount = 16

    @Test func theFullPathOpensEachClipOnlyWhileItPlays() throws {
        try TestMedia.withTemporaryDirectory { dir in
            // One file for every clip, so every open of it counts; its silent sound is mixed too.
            let clip = try RenderFixtures.clip(RenderFixtures.red, seconds: 0.6, in: dir, name: "clip.mp4")
            let clips = (0..<Self.clipCount).map {
                TimelineClip(id: "s\($0)", asset: "clip", in: 0, out: 0.6, transition: $0 + 1 < Self.clipCount ? Transition(duration: 0.2) : nil)
            }
            let peak = Peak(clip)
            let control = RenderControl(interval: .zero) { _ in peak.sample() }
            let report = try TimelineRenderer().render(
                Timeline(video: clips, output: RenderFixtures.output()), media: ["clip": clip], to: dir.appendingPathComponent("film.mp4"), control: control)
            #expect(report.method == .filterGraph)
            #expect(peak.reports.withLock { $0 } > Self.clipCount)
            // A transition reads two clips at once; the sound, mixed alongside, a clip or two more.
            let most = peak.most.withLock { $0 }
            #expect(most <= 6, "\(most) files open at once for \(Self.clipCount) clips")
        }
    }

    @Test func aStreamCopyOpensOneClipAtATime() throws {
        try TestMedia.withTemporaryDirectory { dir in
            let clip = try RenderFixtures.clip(RenderFixtures.red, seconds: 0.6, in: dir, name: "clip.mp4")
            let clips = (0..<Self.clipCount).map { TimelineClip(id: "s\($0)", asset: "clip", in: 0, out: 0.6) }
            let peak = Peak(clip)
            let control = RenderControl(interval: .zero) { _ in peak.sample() }
            let report = try TimelineRenderer().render(
                Timeline(video: clips, output: RenderFixtures.output()), media: ["clip": clip], to: dir.appendingPathComponent("film.mp4"), control: control)
            #expect(report.method == .streamCopy)
            #expect(peak.reports.withLock { $0 } >= Self.clipCount)
            let most = peak.most.withLock { $0 }
            #expect(most <= 2, "\(most) files open at once for \(Self.clipCount) clips")
        }
    }

    @Test func theSoundtrackOpensEachSoundOnlyWhileItSounds() throws {
        try TestMedia.withTemporaryDirectory { dir in
            // A still under the sound: the picture is not what this test is about.
            let clip = dir.appendingPathComponent("still.png")
            try ImageIO.writePNG(RenderFixtures.grey, to: clip)
            let blip = try RenderFixtures.tone(frequency: 880, amplitude: 0.2, seconds: 0.1, in: dir, name: "blip.wav")
            // Sixty blips, one every 0.125 s, none overlapping the next.
            let effects = (0..<60).map { AudioClip(id: "b\($0)", asset: "blip", at: 0.125 * Double($0)) }
            let timeline = Timeline(
                video: [TimelineClip(id: "s1", asset: "clip", in: 0, out: 8, volume: 0)], audio: TimelineAudio(effects: effects),
                output: RenderFixtures.output())
            let media = ["clip": clip, "blip": blip]
            let (facts, _) = TimelineRenderer.inspect(timeline, media: media)
            let peak = Peak(blip)
            let mixer = SoundtrackMixer(timeline: timeline, media: media, facts: facts, threads: 1, control: RenderControl())
            let loudness = try mixer.measureLoudness { _ in peak.sample() }
            #expect(loudness != nil)
            #expect(peak.reports.withLock { $0 } > 60)
            let most = peak.most.withLock { $0 }
            #expect(most <= 3, "\(most) files open at once for 60 sounds")
        }
    }
}
