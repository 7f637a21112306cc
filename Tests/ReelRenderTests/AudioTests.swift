import Foundation
import ReelRender
import Testing

@Suite struct AudioTests {
    @Test func speechLikeLengthFollowsText() throws {
        try TestMedia.withTemporaryDirectory { dir in
            let text = String(repeating: "The lighthouse keeper waits. ", count: 5)  // 145 characters
            let speech = AudioSynthesizer.speechLike(text: text, seed: 1)
            #expect(abs(speech.durationSeconds - (Double(text.count) / 14 + 0.25)) < 0.05)
            let url = dir.appendingPathComponent("voice.m4a")
            let facts = try AudioWriter.writeM4A(speech, to: url)
            #expect(facts.audioCodec == "aac" && facts.audioStream?.sampleRate == 48_000 && facts.audioStream?.channels == 1)
            let decoded = try AudioFile.read(url, channels: 1)
            #expect(abs(decoded.durationSeconds - speech.durationSeconds) < 0.05)
            #expect(decoded.rms > 0.01)
        }
    }

    @Test func synthesisIsDeterministicFromSeed() {
        #expect(AudioSynthesizer.music(durationSeconds: 1, seed: 3) == AudioSynthesizer.music(durationSeconds: 1, seed: 3))
        #expect(AudioSynthesizer.music(durationSeconds: 1, seed: 3) != AudioSynthesizer.music(durationSeconds: 1, seed: 4))
        #expect(AudioSynthesizer.soundEffect(durationSeconds: 1, seed: 9) == AudioSynthesizer.soundEffect(durationSeconds: 1, seed: 9))
    }

    @Test func musicAndEffectAreAudibleStereoM4A() throws {
        try TestMedia.withTemporaryDirectory { dir in
            for (name, audio) in [("music", AudioSynthesizer.music(durationSeconds: 4, seed: 2)), ("whoosh", AudioSynthesizer.soundEffect(durationSeconds: 1.5, seed: 2))] {
                let url = dir.appendingPathComponent("\(name).m4a")
                let facts = try AudioWriter.writeM4A(audio, to: url)
                #expect(facts.audioStream?.channels == 2)
                #expect(abs((facts.durationSeconds ?? 0) - audio.durationSeconds) < 0.05)
                #expect(try AudioFile.read(url).rms > 0.01)
            }
        }
    }

    @Test func writerResamplesOtherRatesTo48k() throws {
        try TestMedia.withTemporaryDirectory { dir in
            let tone = AudioSamples(sampleRate: 22_050, channels: 1, samples: (0..<22_050).map { Float(0.5 * sin(2 * Double.pi * 440 * Double($0) / 22_050)) })
            let url = dir.appendingPathComponent("tone.m4a")
            let facts = try AudioWriter.writeM4A(tone, to: url)
            #expect(facts.audioStream?.sampleRate == 48_000)
            let back = try AudioFile.read(url, channels: 1)
            #expect(abs(back.rms - 0.5 / 2.squareRoot()) < 0.05)
        }
    }
}
