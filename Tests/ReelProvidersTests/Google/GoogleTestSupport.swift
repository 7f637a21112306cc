import Foundation
import Logging
import ReelCore
import ReelHTTP
import ReelProviderFakes
import ReelProviders

/// Runs `body` with a fake Gemini API, a running HTTP client and an adapter pointed at the fake.
func withGoogle<R>(
    key: String = FakeGoogle.key, _ adjust: (inout GoogleSettings) -> Void = { _ in },
    _ body: (GoogleHarness) async throws -> R
) async throws -> R {
    let fake = try FakeGoogle()
    var settings = GoogleSettings(apiKey: key, baseURL: fake.baseURL)
    adjust(&settings)
    return try await withAdapterContext("google") { client, context, logs, work in
        try await body(GoogleHarness(provider: GoogleProvider(settings: settings, client: client), fake: fake, context: context, logs: logs, work: work))
    }
}

struct GoogleHarness {
    let provider: GoogleProvider
    let fake: FakeGoogle
    let context: GenerationContext
    let logs: LogLines
    let work: URL

    func generate(_ request: GenerationRequest) async throws -> GenerationOutcome {
        try await provider.generate(request, context: context)
    }

    func poll(_ task: ProviderTask, _ request: GenerationRequest) async throws -> GenerationOutcome {
        try await provider.poll(task, request: request, context: context)
    }

    /// A small file in the work directory's sibling, for frames and references.
    func file(_ name: String, _ bytes: [UInt8]) throws -> URL {
        let directory = work.appendingPathComponent("inputs")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }

    /// The files an adapter left in the work directory (inputs aside).
    var outputs: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: work.path)) ?? []).filter { $0 != "inputs" }
    }
}

/// How a call failed: the JobError, and whether the adapter said the provider certainly did
/// not take the call (nil when it succeeded or threw something else).
struct GoogleFailureSeen {
    var error: JobError
    var notAccepted: Bool
}

func googleFailure<T>(_ body: () async throws -> T) async -> GoogleFailureSeen? {
    do {
        _ = try await body()
        return nil
    } catch let error as RequestNotAccepted {
        return GoogleFailureSeen(error: error.error, notAccepted: true)
    } catch let error as JobError {
        return GoogleFailureSeen(error: error, notAccepted: false)
    } catch {
        return nil
    }
}

let pngBytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3, 4]
let jpegBytes: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0, 9, 8, 7]
