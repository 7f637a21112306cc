import Foundation
import Logging
import ReelCore
import ReelHTTP
import ReelProviderFakes
import Synchronization

@testable import ReelProviders

/// Runs `body` with a fake Kling, a running HTTP client and an adapter pointed at the fake.
func withKling<R>(
    accessKey: String = FakeKling.accessKey, secretKey: String = FakeKling.secretKey, now: (@Sendable () -> Int64)? = nil,
    _ adjust: (inout KlingSettings) -> Void = { _ in }, _ body: (KlingHarness) async throws -> R
) async throws -> R {
    let fake = try FakeKling()
    var settings = KlingSettings(accessKey: accessKey, secretKey: secretKey, baseURL: fake.baseURL, pollInterval: .seconds(15))
    adjust(&settings)
    return try await withAdapterContext("kling") { client, context, logs, work in
        let provider = now.map { KlingProvider(settings: settings, client: client, now: $0) } ?? KlingProvider(settings: settings, client: client)
        return try await body(KlingHarness(provider: provider, fake: fake, context: context, logs: logs, work: work))
    }
}

struct KlingHarness {
    let provider: KlingProvider
    let fake: FakeKling
    let context: GenerationContext
    let logs: LogLines
    let work: URL

    func generate(_ request: GenerationRequest) async throws -> GenerationOutcome {
        try await provider.generate(request, context: context)
    }

    func poll(_ task: ProviderTask, _ request: GenerationRequest) async throws -> GenerationOutcome {
        try await provider.poll(task, request: request, context: context)
    }

    /// The JSON body of the `index`-th request on a route.
    func body(_ route: String, _ index: Int = 0) throws -> JSONValue {
        let requests = fake.requests(route)
        guard requests.indices.contains(index) else { throw JobError.permanent("no request \(index) on \(route)") }
        return try JSONValue(parsing: requests[index].body)
    }

    /// Files left in the work directory.
    var leftFiles: [String] { (try? FileManager.default.contentsOfDirectory(atPath: context.workDirectory.path)) ?? [] }

    /// A small image file under the work area, for start/end frames and references.
    func imageFile(_ name: String, bytes: [UInt8] = FakeKling.defaultImageBytes) throws -> URL {
        let dir = work.appendingPathComponent("inputs")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }
}

/// The error a call threw, whatever its type (nil when it succeeded).
func anyError<T>(_ body: () async throws -> T) async -> (any Error)? {
    do {
        _ = try await body()
        return nil
    } catch {
        return error
    }
}
