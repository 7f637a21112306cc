import Foundation
import ReelCore
import ReelTestSupport
import Testing
@testable import ReelIntake

/// Property-based runs of the decoders over generated hostile documents (`HostileJobFiles`):
/// every input gets an answer (a value or problems that say why), never a crash. A trap in the
/// decoder ends the test process, so a crash fails the run loudly.
///
/// `REELD_FUZZ_ITERATIONS` sets the number of documents (1000 by default, some seconds in a debug build);
/// `REELD_FUZZ_SEED` replays a run (the seed is in every failure message).
/// `scripts/fuzz-intake` runs them long.
@Suite struct IntakeFuzzTests {
    let iterations = HostileJobFiles.count("REELD_FUZZ_ITERATIONS", default: 1000)

    @Test func jobFileDecoderAnswersEveryHostileDocument() {
        let seed = HostileJobFiles.seedFromEnvironment()
        var generator = HostileJobFiles(seed: seed)
        let decoder = JobFileDecoder()
        var decoded = 0
        for index in 0..<iterations {
            let document = generator.document()
            // Plain checks, an issue only on failure: #expect per document costs more than the decoding.
            do {
                let job = try decoder.decode(document)
                decoded += 1
                // What passes is what the queue may be given.
                let valid = KindArguments.table[job.kind] != nil && (0...1000).contains(job.priority)
                    && (1...255).contains(job.idempotencyKey?.unicodeScalars.count ?? 0)
                    && (job.maxAttempts.map { (1...100).contains($0) } ?? true)
                    && !job.args.jsonText.unicodeScalars.contains("\u{0}") && !(job.idempotencyKey ?? "").unicodeScalars.contains("\u{0}")
                if !valid { Issue.record("seed \(seed) #\(index): decoded to a job the queue may not be given: \(job)") }
            } catch {
                if error.problems.isEmpty || !error.problems.allSatisfy({ $0.path.hasPrefix("$") && !$0.message.isEmpty }) {
                    Issue.record("seed \(seed) #\(index): refused without a reason: \(error.problems)")
                }
            }
        }
        // A generator that only makes garbage proves little about the paths past the parser.
        #expect(decoded > 0, "seed \(seed): no document of \(iterations) decoded")
    }

    @Test func timelineDecoderAnswersEveryHostileDocument() {
        let seed = HostileJobFiles.seedFromEnvironment()
        var generator = HostileJobFiles(seed: seed)
        var decoded = 0
        for index in 0..<iterations {
            let document = index % 2 == 0 ? generator.timelineDocument() : generator.document()
            do {
                let timeline = try Timeline(json: document)
                decoded += 1
                // What decodes encodes, and reads back the same.
                if (try? Timeline(json: timeline.jsonData)) != timeline { Issue.record("seed \(seed) #\(index): round trip changed the timeline") }
                _ = try? timeline.validate(assets: [:])
            } catch {
                if error.problems.isEmpty { Issue.record("seed \(seed) #\(index): refused without a reason") }
            }
        }
        #expect(decoded > 0, "seed \(seed): no timeline of \(iterations) decoded")
    }

    @Test func jsonParserRoundTripsWhatItAccepts() {
        let seed = HostileJobFiles.seedFromEnvironment()
        var generator = HostileJobFiles(seed: seed)
        for index in 0..<iterations {
            let document = generator.document()
            guard let value = try? JSONValue(parsing: document) else { continue }
            if (try? JSONValue(parsing: Array(value.jsonText.utf8))) != value { Issue.record("seed \(seed) #\(index): round trip changed the value") }
        }
    }
}
