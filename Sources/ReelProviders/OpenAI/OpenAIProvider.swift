import Foundation
import Logging
import ReelCore
import ReelHTTP

/// OpenAI: storyboards (structured text) through the Responses API, images through GPT Image,
/// and, when enabled, videos through Sora. Every call goes through the node's `HTTPClient`; the
/// adapter retries nothing itself: it classifies each failure for the engine (`OpenAIFailure`).
public struct OpenAIProvider: Provider {
    public let name = "openai"
    public let settings: OpenAISettings
    let client: HTTPClient

    public init(settings: OpenAISettings, client: HTTPClient) {
        self.settings = settings
        self.client = client
    }

    public var capabilities: Set<GenerationKind> {
        settings.soraEnabled ? [.text, .image, .video] : [.text, .image]
    }

    public func generate(_ request: GenerationRequest, context: GenerationContext) async throws -> GenerationOutcome {
        switch request.kind {
        case .text: return .finished(try await text(request, context: context))
        case .image: return .finished(try await image(request, context: context))
        case .video:
            try requireSora()
            return try await createVideo(request, context: context)
        case .speech, .soundEffect, .music:
            throw JobError.permanent("provider openai makes no \(request.kind.rawValue)")
        }
    }

    public func poll(_ task: ProviderTask, request: GenerationRequest, context: GenerationContext) async throws -> GenerationOutcome {
        guard request.kind == .video else {
            // Text and images answer synchronously: there is never a task to look up.
            throw JobError.permanent("provider openai has no task to poll for \(request.kind.rawValue)")
        }
        try requireSora()
        return try await pollVideo(id: task.id, request: request, context: context)
    }

    /// A video's only stop at OpenAI is its deletion (`DELETE /videos/{id}`); text and images
    /// answer within their call and leave no task behind.
    public func cancel(_ task: ProviderTask, context: GenerationContext) async throws {
        try await deleteVideo(task, context: context)
        context.logger.info("Video deleted at OpenAI for a cancelled job", metadata: ["openai.video": "\(task.id)"])
    }

    private func requireSora() throws {
        guard settings.soraEnabled else {
            throw JobError.permanent("OpenAI video (Sora) is not enabled on this node")
        }
    }

    // MARK: Exchanges

    func url(_ path: String) -> String { settings.baseURL + path }

    var headers: HTTPHeaders {
        var headers = HTTPHeaders()
        headers.setBearer(settings.apiKey)
        if let organization = settings.organization { headers.set("OpenAI-Organization", organization) }
        if let project = settings.project { headers.set("OpenAI-Project", project) }
        return headers
    }

    func options(total: Duration) -> HTTPRequestOptions {
        HTTPRequestOptions(connectTimeout: settings.connectTimeout, totalTimeout: total)
    }

    /// Sends a request and returns the answer parsed as JSON; every failure already classified.
    func exchange(_ request: HTTPRequest, context: GenerationContext) async throws -> (json: JSONValue, response: HTTPResponse) {
        let response: HTTPResponse
        do throws(HTTPError) {
            response = try await client.execute(request)
        } catch {
            context.logger.warning("OpenAI request failed", metadata: Self.metadata(request, requestID: error.requestID, extra: ["error": "\(error)"]))
            throw jobError(error, context: context)
        }
        context.logger.debug("OpenAI answered", metadata: Self.metadata(request, requestID: response.requestID, extra: ["status": "\(response.status)"]))
        guard let json = try? response.json() else {
            throw OpenAIFailure.malformed("not JSON (\(response.body.count) bytes)", requestID: response.requestID)
        }
        return (json, response)
    }

    /// A failed exchange as the engine's error, with OpenAI's wait capped by the settings.
    func jobError(_ error: HTTPError, context: GenerationContext) -> any Error {
        OpenAIFailure.jobError(error, maxRetryAfter: settings.maxRetryAfter, logger: context.logger)
    }

    static func metadata(_ request: HTTPRequest, requestID: String?, extra: Logger.Metadata = [:]) -> Logger.Metadata {
        ProviderNaming.metadata("openai", request, requestID: requestID, extra: extra)
    }
}
