import Foundation
import Logging
import ReelCore
import ReelHTTP

/// Google's Gemini API (the Developer API, key in `x-goog-api-key`): storyboards through a
/// Gemini model's structured output, images through the Gemini image models ("Nano Banana")
/// and videos through Veo's long-running operations. Every call goes through the node's
/// `HTTPClient`; the adapter retries nothing itself: it classifies each failure for the engine
/// (`GoogleFailure`).
public struct GoogleProvider: Provider {
    public let name = "google"
    public let settings: GoogleSettings
    let client: HTTPClient

    public init(settings: GoogleSettings, client: HTTPClient) {
        self.settings = settings
        self.client = client
    }

    public var capabilities: Set<GenerationKind> { [.text, .image, .video] }

    public func generate(_ request: GenerationRequest, context: GenerationContext) async throws -> GenerationOutcome {
        switch request.kind {
        case .text: return .finished(try await text(request, context: context))
        case .image: return .finished(try await image(request, context: context))
        case .video: return try await createVideo(request, context: context)
        case .speech, .soundEffect, .music:
            throw JobError.permanent("provider google makes no \(request.kind.rawValue)")
        }
    }

    public func poll(_ task: ProviderTask, request: GenerationRequest, context: GenerationContext) async throws -> GenerationOutcome {
        guard request.kind == .video else {
            // Text and images answer synchronously: there is never a task to look up.
            throw JobError.permanent("provider google has no task to poll for \(request.kind.rawValue)")
        }
        return try await pollVideo(operation: task.id, request: request, context: context)
    }

    /// Text and images are synchronous: a second call costs about what a retry would, and an
    /// interrupted answer is lost anyway. A Veo operation takes no client reference and the
    /// Gemini API cannot list operations, so a video that may have started is not started again.
    public func recoveryRule(for kind: GenerationKind) -> RecoveryRule {
        switch kind {
        case .text, .image: .resubmit
        default: .outcomeUnknown
        }
    }

    // MARK: Exchanges

    func url(_ path: String) -> String { settings.baseURL + path }

    /// `/models/{model}:{method}`; a model name (with or without `models/`) may hold letters,
    /// digits, `-`, `_` and `.`, so a job's `args.model` cannot reach another path.
    func modelURL(_ model: String, _ method: String) throws -> String {
        let id = model.hasPrefix("models/") ? String(model.dropFirst("models/".count)) : model
        guard !id.isEmpty, id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }), !id.hasPrefix(".") else {
            throw JobError.permanent("\"\(model)\" is not a Google model name")
        }
        return url("/models/\(id):\(method)")
    }

    var headers: HTTPHeaders {
        var headers = HTTPHeaders()
        headers.set("x-goog-api-key", settings.apiKey, secret: true)
        return headers
    }

    func options(total: Duration, maxBodyBytes: Int64 = 64 << 20) -> HTTPRequestOptions {
        HTTPRequestOptions(connectTimeout: settings.connectTimeout, totalTimeout: total, maxBodyBytes: maxBodyBytes)
    }

    /// Sends a request and returns the answer parsed as JSON; every failure already classified.
    /// For a call that starts paid work (`creates`), an answer Google refused with an error
    /// status, or one it cannot have received, is `RequestNotAccepted`: nothing was started, so
    /// the next attempt may call again whatever the recovery rule.
    func exchange(_ request: HTTPRequest, creates: Bool, context: GenerationContext) async throws -> (json: JSONValue, response: HTTPResponse) {
        let response: HTTPResponse
        do throws(HTTPError) {
            response = try await client.execute(request)
        } catch {
            context.logger.warning("Google request failed", metadata: Self.metadata(request, requestID: error.requestID, extra: ["error": "\(error)"]))
            let mapped = GoogleFailure.jobError(error)
            if creates, error.certainlyNotAccepted || error.status != nil, let jobError = mapped as? JobError {
                throw RequestNotAccepted(jobError)
            }
            throw mapped
        }
        guard let json = try? response.json() else {
            context.logger.warning("Google answered with a body that is not JSON", metadata: Self.metadata(request, requestID: response.requestID, extra: ["bytes": "\(response.body.count)"]))
            throw GoogleFailure.malformed("not JSON (\(response.body.count) bytes)", requestID: response.requestID)
        }
        var extra: Logger.Metadata = ["status": "\(response.status)"]
        if let id = json["responseId"]?.stringValue { extra["google.response_id"] = "\(id)" }
        if let operation = json["name"]?.stringValue { extra["google.operation"] = "\(operation)" }
        context.logger.debug("Google answered", metadata: Self.metadata(request, requestID: response.requestID, extra: extra))
        return (json, response)
    }

    static func metadata(_ request: HTTPRequest, requestID: String?, extra: Logger.Metadata = [:]) -> Logger.Metadata {
        ProviderNaming.metadata("google", request, requestID: requestID, extra: extra)
    }

    /// `generationConfig.seed` is an int32: a larger seed is folded into that range, so the same
    /// seed still gives the same call.
    static func seed(_ seed: UInt64?) -> JSONValue? {
        seed.map { .int(Int64($0 % (UInt64(Int32.max) + 1))) }
    }

    /// An image file as Gemini's inline data: its MIME type (from its first bytes, else its
    /// name) and its bytes in base64.
    static func inlineImage(_ file: URL, role: String) throws -> (mimeType: String, data: String) {
        let bytes: Data
        do { bytes = try Data(contentsOf: file) } catch {
            throw JobError.permanent("cannot read the \(role) \(file.lastPathComponent): \(error.localizedDescription)")
        }
        return (imageType(bytes, name: file), bytes.base64EncodedString())
    }

    static func imageType(_ bytes: Data, name: URL) -> String {
        let head = Array(bytes.prefix(12))
        if head.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return "image/png" }
        if head.starts(with: [0xFF, 0xD8, 0xFF]) { return "image/jpeg" }
        if head.count == 12, head.starts(with: Array("RIFF".utf8)), Array(head[8..<12]) == Array("WEBP".utf8) { return "image/webp" }
        return ProviderNaming.imageType(named: name)
    }

    static func write(_ bytes: Data, to file: URL, what: String) throws {
        do {
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try bytes.write(to: file, options: .atomic)
        } catch {
            throw JobError("cannot write the \(what): \(error.localizedDescription)", class: .transient)
        }
    }
}
