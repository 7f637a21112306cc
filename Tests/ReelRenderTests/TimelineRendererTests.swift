import Foundation
import ReelCore
import ReelRender
import Synchronization
import Testing

@Suite struct TimelineRendererTests {
    @Test func rendersTheTimelinesStreamsSizeAndLength() throws {
        try TestMedia.withTemporaryDirectory { dir in
            let a = try RenderFixtures.clip(RenderFixtures.red, seconds: 1.2, in: dir, name: "a.mp4")
            let b = try RenderFixtures.clip(RenderFixtures.blue, seconds: 1.2, in: dir, name: "b.mp4")
            let timeline = Timeline(
                video: [
                    TimelineClip(id: "s1", asset: "a", in: 0, out: 1.2, transition: Transition(type: .wipeleft, duration: 0.4)),
                    TimelineClip(id: "s2", asset: "b", in: 0.2, out: 1.2),
                ],
                output: RenderFixtures.output())
            let film = dir.appendingPathComponent("film.mp4")
            let report = try TimelineRenderer().render(timeline, media: ["a": a, "b": b], to: film)
            #expect(report.method == .filterGraph)
            let facts = try MediaProbe.probe(film)
            #expect(facts.videoCodec == "h264" && facts.audioCodec == "aac")
            #expect(facts.width == 320 && facts.height == 180)
            let expected = 1.2 + 1.0 - 0.4
            #expect(abs((facts.videoStream?.durationSeconds ?? 0) - expected) <= 1 / RenderFixtures.fps)
            #expect(abs((facts.audioStream?.durationSeconds ?? 0) - expected) <= 1 / RenderFixtures.fps)
            var frames = 0
            try VideoFrameReader.forEachFrame(in: film) { _, _ in frames += 1 }
            #expect(frames == 45)
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".") }.isEmpty)
        }
    }

    @Test func aFrameInTheMiddleOfATransitionMixesBothClips() throws {
        try TestMedia.withTemporaryDirectory { dir in
            let a = try RenderFixtures.clip(RenderFixtures.red, seconds: 1.2, in: dir, name: "a.mp4")
            let b = try RenderFixtures.clip(RenderFixtures.blue, seconds: 1.2, in: dir, name: "b.mp4")
            let timeline = Timeline(
                video: [
                    TimelineClip(id: "s1", asset: "a", in: 0, out: 1.2, transition: Transition(type: .fade, duration: 0.8)),
                    TimelineClip(id: "s2", asset: "b", in: 0, out: 1.2),
                ],
                output: RenderFixtures.output())
            let film = dir.appendingPathComponent("film.mp4")
            try TimelineRenderer().render(timeline, media: ["a": a, "b": b], to: film)
            // The fade runs from 0.4 s to 1.2 s; 0.8 s is its middle.
            let images = try FrameGrabber.images(of: film, at: [0.2, 0.8, 1.4])
            let before = RenderFixtures.meanColor(images[0]), middle = RenderFixtures.meanColor(images[1]), after = RenderFixtures.meanColor(images[2])
            #expect(before.r > 190 && before.b < 60)
            #expect(after.b > 190 && after.r < 60)
            #expect(abs(middle.r - (before.r + after.r) / 2) < 25, "red \(middle.r) is not halfway")
            #expect(abs(middle.b - (before.b + after.b) / 2) < 25, "blue \(middle.b) is not halfway")
        }
    }

    @Test func musicDropsByTheDuckingDepthWhileTheVoiceSpeaks() throws {
        try TestMedia.withTemporaryDirectory { dir in
            let clip = try RenderFixtures.clip(RenderFixtures.grey, seconds: 4, in: dir, name: "clip.mp4")
            let music = try RenderFixtures.tone(frequency: 330, amplitude: 0.2, seconds: 5, in: dir, name: "music.wav")
            let voice = try RenderFixtures.tone(frequency: 2200, amplitude: 0.3, seconds: 1.2, from: 0.1, to: 1.1, in: dir, name: "voice.wav")
            let timeline = Timeline(
                video: [TimelineClip(id: "s1", asset: "clip", in: 0, out: 4, volume: 0)],
                audio: TimelineAudio(
                    voice: [AudioClip(id: "vo", asset: "voice", at: 1.0)],
                    music: MusicBed(asset: "music", ducking: Ducking(depthDB: 12, attack: 0.15, release: 0.3))),
                output: RenderFixtures.output())
            let film = dir.appendingPathComponent("film.mp4")
            try TimelineRenderer().render(timeline, media: ["clip": clip, "music": music, "voice": voice], to: film)
            let sound = try AudioFile.read(film)
            // The voice sounds from 1.1 to 2.1 s; the music is fully down over that span.
            let ducked = RenderFixtures.amplitude(of: 330, in: sound, from: 1.2, to: 2.0)
            let open = RenderFixtures.amplitude(of: 330, in: sound, from: 2.8, to: 3.8)
            let before = RenderFixtures.amplitude(of: 330, in: sound, from: 0.1, to: 0.8)
            let drop = 20 * log10(open / ducked)
            #expect(abs(drop - 12) < 1.5, "music dropped \(drop) dB under the voice")
            #expect(abs(20 * log10(before / open)) < 1, "music before the voice differs from after it")
            #expect(RenderFixtures.amplitude(of: 2200, in: sound, from: 1.2, to: 2.0) > 0.1, "the voice is missing")
        }
    }

    @Test func theLoudnessMeterOfTheseTestsReadsReferenceSignalsRight() {
        // EBU Tech 3341, case 1: a stereo 1 kHz sine at −23 dBFS reads −23 LUFS.
        let reference = BS1770.integratedLoudness(BS1770.sine(frequency: 1000, amplitude: pow(10, -23.0 / 20), seconds: 20))
        #expect(abs((reference ?? 0) + 23) < 0.1, "\(String(describing: reference))")
        // BS.1770: a 0 dBFS 1 kHz sine in one channel reads −3.01 LUFS.
        let one = BS1770.integratedLoudness(BS1770.sine(frequency: 1000, amplitude: 1, seconds: 5, right: false))
        #expect(abs((one ?? 0) + 3.01) < 0.1, "\(String(describing: one))")
        // Under the absolute gate: nothing.
        #expect(BS1770.integratedLoudness(BS1770.sine(frequency: 1000, amplitude: pow(10, -80.0 / 20), seconds: 5)) == nil)
        #expect(abs(BS1770.samplePeak(BS1770.sine(frequency: 1000, amplitude: 0.5, seconds: 1)) + 6.02) < 0.01)
    }

    @Test func integratedLoudnessMeetsTheTargetWithPeaksUnderMinusOneDBFS() throws {
        try TestMedia.withTemporaryDirectory { dir in
            let clip = try RenderFixtures.clip(RenderFixtures.grey, seconds: 4, in: dir, name: "clip.mp4")
            try AudioWriter.writeM4A(AudioSynthesizer.music(durationSeconds: 4, seed: 3), to: dir.appendingPathComponent("music.m4a"))
            try AudioWriter.writeM4A(AudioSynthesizer.speechLike(text: "Salt on the glass and wind in the rails.", seed: 2), to: dir.appendingPathComponent("voice.m4a"))
            let media = ["clip": clip, "music": dir.appendingPathComponent("music.m4a"), "voice": dir.appendingPathComponent("voice.m4a")]
            for target in [-14.0, -23.0] {
                let timeline = Timeline(
                    video: [TimelineClip(id: "s1", asset: "clip", in: 0, out: 4, volume: 0)],
                    audio: TimelineAudio(voice: [AudioClip(id: "vo", asset: "voice", at: 0.5)], music: MusicBed(asset: "music", volume: 0.5)),
                    output: RenderFixtures.output(loudness: target))
                let film = dir.appendingPathComponent("film\(Int(-target)).mp4")
                let report = try TimelineRenderer().render(timeline, media: media, to: film)
                // Measured here, on the decoded sound, not by the renderer's own meter.
                let sound = try AudioFile.read(film)
                let measured = try #require(BS1770.integratedLoudness(sound))
                #expect(abs(measured - target) <= 1, "target \(target) LUFS, measured \(measured)")
                #expect(abs((report.loudness ?? 0) - target) <= 1)
                // The limiter holds peaks under −1 dBFS (AAC's decoder may overshoot by a hair).
                let peak = BS1770.samplePeak(sound)
                #expect(peak <= -0.9, "peak \(peak) dBFS")
            }
        }
    }

    @Test func theOverlayChangesPixelsInItsBoxOnlyWhileShown() throws {
        try TestMedia.withTemporaryDirectory { dir in
            let clip = try RenderFixtures.clip(RenderFixtures.grey, seconds: 2, in: dir, name: "clip.mp4")
            var timeline = Timeline(video: [TimelineClip(id: "s1", asset: "clip", in: 0, out: 2)], output: RenderFixtures.output())
            let plain = dir.appendingPathComponent("plain.mp4")
            try TimelineRenderer().render(timeline, media: ["clip": clip], to: plain)
            timeline.overlays = [TextOverlay(
                id: "title", text: "Hello: it's [reeld], 100%", font: "DejaVu Sans Bold", size: 20, color: "#ffff00",
                box: TextBox(color: "#000000", padding: 6), x: 0.5, y: 0.25, start: 0.6, end: 1.4)]
            let titled = dir.appendingPathComponent("titled.mp4")
            try TimelineRenderer().render(timeline, media: ["clip": clip], to: titled)
            let times = [0.3, 1.0, 1.7]
            let a = try FrameGrabber.images(of: plain, at: times), b = try FrameGrabber.images(of: titled, at: times)
            // The box is centred on row 45 (a quarter down), about 20 + 2 × 6 pixels high.
            let box = 28..<62, below = 80..<180
            #expect(RenderFixtures.difference(a[1], b[1], rows: box) > 40, "no overlay in its box while shown")
            #expect(RenderFixtures.difference(a[1], b[1], rows: below) < 1.5, "the overlay changed pixels outside its box")
            for i in [0, 2] {
                #expect(RenderFixtures.difference(a[i], b[i], rows: 0..<180) < 1.5, "the overlay shows at \(times[i]) s")
            }
        }
    }

    @Test func aWebMPlaysBackWithVP9AndOpus() throws {
        try TestMedia.withTemporaryDirectory { dir in
            let clip = try RenderFixtures.clip(RenderFixtures.red, seconds: 1, in: dir, name: "clip.mp4")
            let tone = try RenderFixtures.tone(frequency: 440, amplitude: 0.3, seconds: 1, in: dir, name: "tone.wav")
            let timeline = Timeline(
                video: [TimelineClip(id: "s1", asset: "clip", in: 0, out: 1)],
                audio: TimelineAudio(effects: [AudioClip(id: "beep", asset: "tone", at: 0)]),
                output: RenderFixtures.output(.webm, loudness: -16))
            let film = dir.appendingPathComponent("film.webm")
            try TimelineRenderer().render(timeline, media: ["clip": clip, "tone": tone], to: film)
            let facts = try MediaProbe.probe(film)
            #expect(facts.formatName.contains("webm") && facts.videoCodec == "vp9" && facts.audioCodec == "opus")
            var frames = 0
            try VideoFrameReader.forEachFrame(in: film) { _, image in
                frames += 1
                #expect(RenderFixtures.meanColor(image).r > 180)
            }
            #expect(frames == 25)
            let sound = try AudioFile.read(film)
            #expect(abs(sound.durationSeconds - 1) < 0.05)
            #expect(RenderFixtures.amplitude(of: 440, in: sound, from: 0.2, to: 0.8) > 0.05)
        }
    }

    @Test func cancelStopsWithinAFrameAndLeavesNoFile() throws {
        try TestMedia.withTemporaryDirectory { dir in
            let clip = try RenderFixtures.clip(RenderFixtures.red, seconds: 2, in: dir, name: "clip.mp4")
            // Far more frames than are rendered before the cancel: the clip twenty times over.
            let clips = (0..<20).map { TimelineClip(id: "s\($0)", asset: "clip", in: 0, out: 2, transition: $0 < 19 ? Transition(duration: 0.2) : nil) }
            let timeline = Timeline(video: clips, output: RenderFixtures.output())
            let film = dir.appendingPathComponent("film.mp4")
            // Progress comes once a frame (interval zero): the tenth frame's report cancels, and
            // every report after it is a frame rendered after the cancel.
            let reports = Shared((count: 0, afterCancel: 0))
            let box = Shared<RenderControl?>(nil)
            let control = RenderControl(interval: .zero) { _ in
                let cancelNow = reports.value.withLock { r -> Bool in
                    r.count += 1
                    if r.count > 10 { r.afterCancel += 1 }
                    return r.count == 10
                }
                if cancelNow { box.value.withLock { $0 }?.cancel() }
            }
            box.value.withLock { $0 = control }
            let error = #expect(throws: RenderCancelled.self) {
                try TimelineRenderer().render(timeline, media: ["clip": clip], to: film, control: control)
            }
            #expect(error != nil)
            let seen = reports.value.withLock { $0 }
            #expect(seen.count >= 10)
            #expect(seen.afterCancel <= 1, "\(seen.afterCancel) frames rendered after the cancel")
            #expect(!FileManager.default.fileExists(atPath: film.path))
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["clip.mp4"])
        }
    }

    @Test func progressClimbsToOne() throws {
        try TestMedia.withTemporaryDirectory { dir in
            let clip = try RenderFixtures.clip(RenderFixtures.red, seconds: 2, in: dir, name: "clip.mp4")
            let seen = Shared<[Double]>([])
            let control = RenderControl(interval: .zero) { fraction in seen.value.withLock { $0.append(fraction) } }
            let timeline = Timeline(
                video: [TimelineClip(id: "s1", asset: "clip", in: 0, out: 1, transition: Transition(duration: 0.2)), TimelineClip(id: "s2", asset: "clip", in: 1, out: 2)],
                output: RenderFixtures.output())
            try TimelineRenderer().render(timeline, media: ["clip": clip], to: dir.appendingPathComponent("film.mp4"), control: control)
            let values = seen.value.withLock { $0 }
            #expect(values.count > 10)
            #expect(values == values.sorted())
            #expect(values.last == 1)
        }
    }

    @Test func aCorruptOrMissingInputFailsNamingItBeforeAnyWork() throws {
        try TestMedia.withTemporaryDirectory { dir in
            let good = try RenderFixtures.clip(RenderFixtures.red, seconds: 1, in: dir, name: "good.mp4")
            let bad = dir.appendingPathComponent("bad.mp4")
            try Data("this is not a video".utf8).write(to: bad)
            let timeline = Timeline(
                video: [TimelineClip(id: "s1", asset: "good", in: 0, out: 1), TimelineClip(id: "s2", asset: "bad", in: 0, out: 1)],
                audio: TimelineAudio(voice: [AudioClip(id: "vo", asset: "gone", at: 0)]),
                output: RenderFixtures.output())
            let film = dir.appendingPathComponent("film.mp4")
            let error = #expect(throws: TimelineInvalid.self) {
                try TimelineRenderer().render(timeline, media: ["good": good, "bad": bad, "gone": dir.appendingPathComponent("gone.m4a")], to: film)
            }
            let problems = error?.problems ?? []
            #expect(problems.contains { $0.element == #"video[1] "s2""# && $0.message.contains(#"asset "bad" cannot be read"#) && $0.message.contains("bad.mp4") })
            #expect(problems.contains { $0.element == #"audio.voice[0] "vo""# && $0.message.contains(#"asset "gone" cannot be read"#) })
            #expect(!FileManager.default.fileExists(atPath: film.path))
        }
    }

    @Test func anInputThatBreaksMidwayFailsNamingTheClip() throws {
        try TestMedia.withTemporaryDirectory { dir in
            let clip = try RenderFixtures.clip(RenderFixtures.red, seconds: 2, in: dir, name: "clip.mp4")
            // The fixture is written faststart: its index (moov) comes before the samples (mdat)
            // and lists two seconds of them. Cut the file halfway through the samples: it still
            // opens and probes as a whole two-second clip, and breaks only when the render
            // reaches the cut.
            let bytes = [UInt8](try Data(contentsOf: clip))
            let samples = try #require(Self.box("mdat", in: bytes), "no mdat box in the fixture")
            #expect(Self.box("moov", in: bytes)?.lowerBound ?? .max < samples.lowerBound, "the fixture is not faststart")
            let broken = dir.appendingPathComponent("broken.mp4")
            try Data(bytes[..<(samples.lowerBound + 8 + (samples.count - 8) / 2)]).write(to: broken)
            let probed = try MediaProbe.probe(broken)
            try #require(abs((probed.videoStream?.durationSeconds ?? 0) - 2) < 0.1, "the cut file must still claim two seconds: \(probed)")

            let timeline = Timeline(video: [TimelineClip(id: "s1", asset: "clip", in: 0, out: 2)], output: RenderFixtures.output())
            let film = dir.appendingPathComponent("film.mp4")
            #expect {
                try TimelineRenderer().render(timeline, media: ["clip": broken], to: film)
            } throws: { error in
                (error as? MediaError)?.message.contains(#"video[0] "s1""#) == true
            }
            #expect(!FileManager.default.fileExists(atPath: film.path))
        }
    }

    /// Where the top-level MP4 box `type` lies in `bytes` (its header included), nil if absent.
    static func box(_ type: String, in bytes: [UInt8]) -> Range<Int>? {
        var offset = 0
        while offset + 8 <= bytes.count {
            var size = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            if size == 1, offset + 16 <= bytes.count { size = bytes[offset + 8..<offset + 16].reduce(0) { $0 << 8 | Int($1) } }
            if size == 0 { size = bytes.count - offset }
            guard size >= 8 else { return nil }
            if String(decoding: bytes[offset + 4..<offset + 8], as: UTF8.self) == type { return offset..<offset + size }
            offset += size
        }
        return nil
    }

    @Test func clipsOfAnotherShapeArePillarboxedIntoTheFrame() throws {
        try TestMedia.withTemporaryDirectory { dir in
            let square = try RenderFixtures.clip(RenderFixtures.red, seconds: 1, in: dir, name: "square.mp4", width: 180, height: 180, fps: 30)
            let timeline = Timeline(video: [TimelineClip(id: "s1", asset: "square", in: 0, out: 1)], output: RenderFixtures.output())
            let film = dir.appendingPathComponent("film.mp4")
            try TimelineRenderer().render(timeline, media: ["square": square], to: film)
            let image = try #require(try FrameGrabber.images(of: film, at: [0.5]).first)
            #expect(image.width == 320 && image.height == 180)
            let left = RenderFixtures.meanColor(image, x: 0..<60), centre = RenderFixtures.meanColor(image, x: 100..<220), right = RenderFixtures.meanColor(image, x: 260..<320)
            #expect(left.r < 20 && right.r < 20, "no black bars at the sides")
            #expect(centre.r > 180)
            var frames = 0
            try VideoFrameReader.forEachFrame(in: film) { _, _ in frames += 1 }
            #expect(frames == 25)
        }
    }

    @Test func anUnknownFontIsRefusedNamingTheOverlay() throws {
        try TestMedia.withTemporaryDirectory { dir in
            let clip = try RenderFixtures.clip(RenderFixtures.red, seconds: 1, in: dir, name: "clip.mp4")
            let timeline = Timeline(
                video: [TimelineClip(id: "s1", asset: "clip", in: 0, out: 1)],
                overlays: [TextOverlay(id: "title", text: "Hi", font: "Comic Sans", start: 0, end: 1)], output: RenderFixtures.output())
            let error = #expect(throws: TimelineInvalid.self) { try TimelineRenderer().render(timeline, media: ["clip": clip], to: dir.appendingPathComponent("f.mp4")) }
            #expect(error?.problems.first?.element == #"overlays[0] "title""#)
        }
    }
}

/// A value shared with a closure on another thread.
final class Shared<Value: Sendable>: Sendable {
    let value: Mutex<Value>
    init(_ initial: Value) { value = Mutex(initial) }
}

/// Overlays name a font family from the catalog; a path, even to a real font, is refused.
@Suite struct OverlayFontTests {
    @Test func aFontPathIsRefusedEvenWhereAFontIs() throws {
        let real = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
        #expect(FileManager.default.isReadableFile(atPath: real))
        #expect(FontCatalog.standard.path(for: real) == nil)
        try TestMedia.withTemporaryDirectory { dir in
            let clip = try RenderFixtures.clip(RenderFixtures.red, seconds: 1, in: dir, name: "clip.mp4")
            let timeline = Timeline(
                video: [TimelineClip(id: "s1", asset: "clip", in: 0, out: 1)],
                overlays: [TextOverlay(id: "title", text: "Hi", font: real, start: 0, end: 1)], output: RenderFixtures.output())
            let film = dir.appendingPathComponent("f.mp4")
            let error = #expect(throws: TimelineInvalid.self) { try TimelineRenderer().render(timeline, media: ["clip": clip], to: film) }
            #expect(error?.problems.first?.element == #"overlays[0] "title""#)
            #expect(!FileManager.default.fileExists(atPath: film.path))
        }
    }

    @Test func aCatalogFontThatIsNotARegularFileIsNotInstalled() throws {
        try TestMedia.withTemporaryDirectory { dir in
            // A FIFO where the font file should be: opening it would block until a writer came.
            let fifo = dir.appendingPathComponent("DejaVuSans.ttf").path
            #expect(mkfifo(fifo, 0o644) == 0)
            #expect(FontCatalog(directory: dir.path).path(for: "DejaVu Sans") == nil)
        }
    }
}
