import Foundation
import Logging
import ReelCore
import ReelHTTP
import ReelProviderFakes
import ReelProviders
import Synchronization

/// Runs `body` with a fake OpenAI, a running HTTP client and an adapter pointed at the fake.
func withOpenAI<R>(
    key: String = FakeOpenAI.key, _ adjust: (inout OpenAISettings) -> Void = { _ in },
    _ body: (OpenAIHarness) async throws -> R
) async throws -> R {
    let fake = try FakeOpenAI()
    var settings = OpenAISettings(apiKey: key, baseURL: fake.baseURL, soraEnabled: true)
    adjust(&settings)
    return try await withAdapterContext("openai") { client, context, logs, _ in
        try await body(OpenAIHarness(provider: OpenAIProvider(settings: settings, client: client), fake: fake, context: context, logs: logs))
    }
}

struct OpenAIHarness {
    let provider: OpenAIProvider
    let fake: FakeOpenAI
    let context: GenerationContext
    let logs: LogLines

    func generate(_ request: GenerationRequest) async throws -> GenerationOutcome {
        try await provider.generate(request, context: context)
    }
}

/// The JobError a call threw (nil when it succeeded or threw something else).
func jobError<T>(_ body: () async throws -> T) async -> JobError? {
    do {
        _ = try await body()
        return nil
    } catch let error as JobError {
        return error
    } catch {
        return nil
    }
}

func finished(_ outcome: GenerationOutcome) throws -> GenerationResult {
    guard case .finished(let result) = outcome else { throw JobError.permanent("expected a finished outcome, got \(outcome)") }
    return result
}

func pending(_ outcome: GenerationOutcome) throws -> (ProviderTask, Duration) {
    guard case .pending(let task, let pace) = outcome else { throw JobError.permanent("expected a pending outcome, got \(outcome)") }
    return (task, pace)
}
