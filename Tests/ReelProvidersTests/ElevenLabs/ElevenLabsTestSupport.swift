import Foundation
import Logging
import ReelCore
import ReelHTTP
import ReelProviderFakes
import ReelProviders
import Testing

/// Runs `body` with a fake ElevenLabs, a running HTTP client and an adapter pointed at the fake.
func withElevenLabs<R>(
    key: String = FakeElevenLabs.key, _ adjust: (inout ElevenLabsSettings) -> Void = { _ in },
    _ body: (ElevenLabsHarness) async throws -> R
) async throws -> R {
    let fake = try FakeElevenLabs()
    var settings = ElevenLabsSettings(apiKey: key, baseURL: fake.baseURL)
    adjust(&settings)
    return try await withAdapterContext("elevenlabs") { client, context, logs, _ in
        try await body(ElevenLabsHarness(provider: ElevenLabsProvider(settings: settings, client: client), fake: fake, context: context, logs: logs))
    }
}

struct ElevenLabsHarness {
    let provider: ElevenLabsProvider
    let fake: FakeElevenLabs
    let context: GenerationContext
    let logs: LogLines

    func generate(_ request: GenerationRequest) async throws -> GenerationResult {
        try finished(try await provider.generate(request, context: context))
    }

    /// What is left in the work directory (nothing after a failed call).
    var workFiles: [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: context.workDirectory.path)) ?? []
    }

    func body(_ route: String) throws -> JSONValue {
        let request = try #require(fake.requests(route).last)
        return try JSONValue(parsing: request.body)
    }
}

/// The query parameter `name` of a request the fake received.
func queryValue(_ target: String, _ name: String) -> String? {
    URLComponents(string: "http://x" + target)?.queryItems?.first { $0.name == name }?.value
}
