import Foundation
import Logging
import ReelCore
import ReelHTTP

/// Kling: videos from text, from a start and/or end frame, or through Kling O1 (omni-video), and
/// images. Every generation is a task: created with the generation id as `external_task_id`,
/// polled until `succeed` or `failed`, its output downloaded from Kling's CDN into the job's work
/// directory. The adapter retries nothing itself; `KlingFailure` classifies each failure.
public struct KlingProvider: Provider {
    public let name = "kling"
    public let settings: KlingSettings
    let client: HTTPClient
    /// Unix seconds, for the JWT's `exp` and `nbf`.
    let now: @Sendable () -> Int64

    public init(settings: KlingSettings, client: HTTPClient) {
        self.init(settings: settings, client: client, now: { Int64(Date().timeIntervalSince1970) })
    }

    init(settings: KlingSettings, client: HTTPClient, now: @escaping @Sendable () -> Int64) {
        self.settings = settings
        self.client = client
        self.now = now
    }

    public var capabilities: Set<GenerationKind> { [.video, .image] }

    public func generate(_ request: GenerationRequest, context: GenerationContext) async throws -> GenerationOutcome {
        switch request.kind {
        case .video: return try await create(endpoint(request), body: try videoBody(request), request: request, context: context)
        case .image: return try await create(.imageGeneration, body: try imageBody(request), request: request, context: context)
        case .text, .speech, .soundEffect, .music:
            throw JobError.permanent("provider kling makes no \(request.kind.rawValue)")
        }
    }

    public func poll(_ task: ProviderTask, request: GenerationRequest, context: GenerationContext) async throws -> GenerationOutcome {
        guard request.kind == .video || request.kind == .image else {
            throw JobError.permanent("provider kling has no task to poll for \(request.kind.rawValue)")
        }
        let endpoint = self.endpoint(request)
        let http = HTTPRequest(url: url(endpoint.path + "/" + ProviderNaming.pathSegment(task.id, fallback: "invalid-task-id")), headers: headers, options: options(total: settings.requestTimeout))
        let (json, response) = try await exchange(http, context: context)
        return try await outcome(json, response: response, endpoint: endpoint, request: request, context: context)
    }

    /// Every Kling create carries the generation id as `external_task_id`, by which an
    /// interrupted create is found again: never made twice.
    public func recoveryRule(for kind: GenerationKind) -> RecoveryRule { .lookUp }

    func endpoint(_ request: GenerationRequest) -> KlingEndpoint {
        KlingEndpoint.of(request, defaultVideoModel: settings.videoModel)
    }

    private func create(_ endpoint: KlingEndpoint, body: JSONValue, request: GenerationRequest, context: GenerationContext) async throws -> GenerationOutcome {
        let http = HTTPRequest.json(url: url(endpoint.path), body: body, headers: headers, options: options(total: settings.requestTimeout))
        let (json, response) = try await exchange(http, context: context, creating: true)
        return try await outcome(json, response: response, endpoint: endpoint, request: request, context: context)
    }

    // MARK: Exchanges

    func url(_ path: String) -> String { settings.baseURL + path }

    /// A fresh token per request: signing costs microseconds, and a token never expires in flight.
    var headers: HTTPHeaders {
        var headers = HTTPHeaders()
        headers.setBearer(KlingToken(accessKey: settings.accessKey, secretKey: settings.secretKey, now: now()).value)
        return headers
    }

    func options(total: Duration) -> HTTPRequestOptions {
        HTTPRequestOptions(connectTimeout: settings.connectTimeout, totalTimeout: total)
    }

    /// Sends a request and returns the answer parsed as JSON; every failure already classified,
    /// including a 200 whose envelope `code` is not 0.
    func exchange(_ request: HTTPRequest, context: GenerationContext, creating: Bool = false) async throws -> (json: JSONValue, response: HTTPResponse) {
        let response: HTTPResponse
        do throws(HTTPError) {
            response = try await client.execute(request)
        } catch {
            context.logger.warning("Kling request failed", metadata: Self.metadata(request, requestID: error.requestID, extra: ["error": "\(error)"]))
            throw KlingFailure.jobError(error, creating: creating)
        }
        guard let json = try? response.json() else {
            context.logger.warning("Kling answered with a body that is not JSON", metadata: Self.metadata(request, requestID: response.requestID, extra: ["status": "\(response.status)"]))
            throw KlingFailure.malformed("not JSON (\(response.body.count) bytes)", requestID: response.requestID)
        }
        let requestID = json["request_id"]?.stringValue ?? response.requestID
        context.logger.debug("Kling answered", metadata: Self.metadata(request, requestID: requestID, extra: ["status": "\(response.status)"]))
        // Documented as an integer; a gateway may pass it on as a string of digits.
        let code = json["code"]?.intValue.map(Int.init) ?? json["code"]?.stringValue.flatMap { Int($0) }
        if let code, code != 0 {
            throw KlingFailure.envelopeError(code: code, message: json["message"]?.stringValue, status: response.status, requestID: requestID)
        }
        return (json, response)
    }

    static func metadata(_ request: HTTPRequest, requestID: String?, extra: Logger.Metadata = [:]) -> Logger.Metadata {
        ProviderNaming.metadata("kling", request, requestID: requestID, extra: extra)
    }
}
