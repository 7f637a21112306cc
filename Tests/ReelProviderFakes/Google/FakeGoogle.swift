import Foundation
import ReelCore
import ReelLoopbackHTTP

/// A stand-in for generativelanguage.googleapis.com (the Gemini Developer API) written from
/// Google's documentation and SDK: the real paths under `/v1beta`, the key checked in
/// `x-goog-api-key` (or `?key=`), bodies checked as the API checks them (camelCase or
/// snake_case), errors in Google's `{"error": {code, message, status, details}}` shape, Veo
/// operations that finish after a settable number of polls, and video downloads that redirect
/// (to another path on this server, as Google redirects to its storage).
///
/// Tests queue special answers per route ("POST /v1beta/models/gemini-2.5-flash:generateContent");
/// without one a route answers as the API does when all goes well. The media it serves can be
/// set, so a test can hand out real, decodable files.
public final class FakeGoogle: FakeKnobs, Sendable {
    public static let key = "AIzaSyFAKE-google-test-key-0123456789"

    public typealias Reply = FakeReply

    /// How the Veo operations created from now on end.
    public enum VideoOutcome: Sendable, Equatable {
        /// `done` with a video to download.
        case succeed
        /// `done` with a `google.rpc.Status` error (a gRPC code: 3 INVALID_ARGUMENT, 13 INTERNAL…).
        case fail(code: Int, message: String)
        /// `done` without samples: Veo's responsible-AI filter took the video.
        case filtered(reasons: [String])
        /// Never `done`.
        case never
    }

    struct Operation: Sendable {
        var model: String
        var polls = 0
        var pollsUntilDone: Int
        var outcome: VideoOutcome
        var file: String
    }

    public struct State: Sendable {
        public var scripted: [String: [Reply]] = [:]
        public var requests: [LoopbackRequest] = []
        var operations: [String: Operation] = [:]
        var nextID = 1
        /// Create calls received with a valid key (`generateContent` and `predictLongRunning`), whatever the answer.
        public var createCount = 0
        /// When on, a create call (`generateContent`, `predictLongRunning`) is accepted (counted,
        /// and a Veo operation made) but its answer is withheld until the client hangs up.
        public var holdCreates = false
        /// The image every image answer carries, and its MIME type.
        public var imageMedia: [UInt8] = FakeGoogle.placeholderImage
        public var imageMimeType = "image/png"
        /// The bytes every video download returns.
        public var videoMedia: [UInt8] = FakeGoogle.placeholderVideo
        /// The JSON text a text model answers with when asked for structured output.
        public var storyboardText = #"{"title":"The Fair","scenes":[{"shot":"wide"}]}"#
        /// Polls until an operation created from now on is done (1: done on the first poll).
        public var pollsUntilDone = 1
        public var videoOutcome: VideoOutcome = .succeed
        /// The model ids served (a test may add one).
        public var models: Set<String> = FakeGoogle.knownModels
    }

    /// The models the fake serves; any other name is Google's 404 `NOT_FOUND`.
    public static let knownModels: Set<String> = [
        "gemini-2.0-flash", "gemini-2.5-flash", "gemini-2.5-flash-lite", "gemini-2.5-pro", "gemini-3-pro-preview", "gemini-3-flash-preview",
        "gemini-2.5-flash-image", "gemini-3-pro-image-preview", "gemini-3.1-flash-image-preview",
        "veo-3.1-generate-preview", "veo-3.1-fast-generate-preview", "veo-3.1-lite-generate-preview",
        "veo-3.0-generate-001", "veo-3.0-fast-generate-001", "veo-2.0-generate-001",
    ]

    public let state: LoopbackState<State>
    public let server: LoopbackServer

    public static let placeholderImage: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + (0..<300).map { UInt8(truncatingIfNeeded: $0 * 11) }
    public static let placeholderVideo: [UInt8] = Array("....ftypisom".utf8) + (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 17 &+ $0 >> 7) }

    public init() throws {
        let state = LoopbackState(State())
        self.state = state
        server = try LoopbackServer { request, connection in
            FakeGoogle.handle(request, connection, state: state)
        }
    }

    deinit { server.stop() }

    /// The API root including its version, as `base_url` takes it.
    public var baseURL: String { server.baseURL + "/v1beta" }

    // MARK: Settings and records (all under the lock, so a test may change them at any time)

    /// The names of the Veo operations made, oldest first.
    public var operationNames: [String] {
        state.value.operations.keys.sorted { Self.serial($0) < Self.serial($1) }
    }

    public func script(_ route: String, _ replies: Reply...) {
        state.withLock { $0.scripted[route, default: []] += replies }
    }

    public func requests(_ route: String) -> [LoopbackRequest] {
        state.value.requests.filter { "\($0.method) \($0.path)" == route }
    }

    public func requestCount(_ route: String) -> Int { requests(route).count }

    /// Google's error body.
    public static func errorBody(_ code: Int, _ status: String, _ message: String, details: [JSONValue] = []) -> JSONValue {
        ["error": ["code": .int(Int64(code)), "message": .string(message), "status": .string(status), "details": .array(details)]]
    }

    /// A 429 as Google sends it for a rate limit: a quota violation, help and `RetryInfo`.
    public static func rateLimited(retryDelay: String?, quotaValue: String = "10") -> JSONValue {
        var details: [JSONValue] = [
            ["@type": "type.googleapis.com/google.rpc.QuotaFailure",
             "violations": [["quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                             "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                             "quotaDimensions": ["location": "global", "model": "gemini-2.5-flash"], "quotaValue": .string(quotaValue)]]],
            ["@type": "type.googleapis.com/google.rpc.Help",
             "links": [["description": "Learn more about Gemini API quotas", "url": "https://ai.google.dev/gemini-api/docs/rate-limits"]]],
        ]
        if let retryDelay { details.append(["@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": .string(retryDelay)]) }
        var message = "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits."
        if quotaValue == "0" { message += "\n* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 0, model: gemini-2.5-flash" }
        return errorBody(429, "RESOURCE_EXHAUSTED", message, details: details)
    }

    // MARK: Serving

    private static func serial(_ name: String) -> Int { Int(name.split(separator: "-").last ?? "") ?? 0 }

    private static func handle(_ request: LoopbackRequest, _ connection: LoopbackConnection, state: LoopbackState<State>) {
        let route = "\(request.method) \(request.path)"
        let base: [(String, String)] = [("Server", "scaffolding on HTTPServer2"), ("Vary", "Origin, X-Origin, Referer")]
        // The storage a download redirects to takes a signed URL, not the key.
        if request.path.hasPrefix("/storage/") {
            let scripted: Reply? = state.withLock {
                $0.requests.append(request)
                return $0.scripted[route]?.isEmpty == false ? $0.scripted[route]!.removeFirst() : nil
            }
            if let scripted { return scripted.send(on: connection, headers: base) }
            guard request.target.contains("sig=fake-signature") else {
                return Reply.raw(status: 403, contentType: "text/html", Array("<h1>403 Forbidden</h1>".utf8)).send(on: connection, headers: base)
            }
            return Reply.raw(status: 200, contentType: "video/mp4", state.value.videoMedia).send(on: connection, headers: base)
        }
        let isCreate = request.method == "POST" && (request.path.hasSuffix(":generateContent") || request.path.hasSuffix(":predictLongRunning"))
        let key = request.header("x-goog-api-key") ?? queryKey(request.target)
        let authorized = key == Self.key
        let scripted: Reply? = state.withLock {
            $0.requests.append(request)
            if authorized, isCreate { $0.createCount += 1 }
            return authorized && $0.scripted[route]?.isEmpty == false ? $0.scripted[route]!.removeFirst() : nil
        }
        guard let key else {
            return Reply.json(status: 403, errorBody(
                403, "PERMISSION_DENIED",
                "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API."
            )).send(on: connection, headers: base)
        }
        guard authorized else {
            return Reply.json(status: 400, errorBody(
                400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.",
                details: [["@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com",
                           "metadata": ["service": "generativelanguage.googleapis.com"]]]
            )).send(on: connection, headers: base)
        }
        if let scripted { return scripted.send(on: connection, headers: base) }
        let reply = answer(request, state: state)
        if isCreate, state.value.holdCreates, case .json(let status, _, _) = reply, status == 200 {
            // Accepted (the operation exists, the call is counted) but never answered.
            _ = connection.waitUntilClosed(timeout: .seconds(300))
            return
        }
        reply.send(on: connection, headers: base)
    }

    private static func queryKey(_ target: String) -> String? {
        guard let query = target.split(separator: "?", maxSplits: 1).dropFirst().first else { return nil }
        for pair in query.split(separator: "&") where pair.hasPrefix("key=") { return String(pair.dropFirst(4)) }
        return nil
    }

    static func invalid(_ message: String) -> Reply { .json(status: 400, errorBody(400, "INVALID_ARGUMENT", message)) }

    static func notFound(_ message: String) -> Reply { .json(status: 404, errorBody(404, "NOT_FOUND", message)) }

    private static func answer(_ request: LoopbackRequest, state: LoopbackState<State>) -> Reply {
        let path = request.path
        guard path.hasPrefix("/v1beta/") else { return notFound("The requested URL \(path) was not found on this server.") }
        let rest = String(path.dropFirst("/v1beta/".count))
        if request.method == "POST", rest.hasPrefix("models/"), let colon = rest.lastIndex(of: ":") {
            let model = String(rest[rest.index(rest.startIndex, offsetBy: "models/".count)..<colon])
            let method = String(rest[rest.index(after: colon)...])
            guard let body = json(request) else { return invalid("Invalid JSON payload received.") }
            switch method {
            case "generateContent": return generateContent(model: model, body: body, state: state)
            case "predictLongRunning": return predictLongRunning(model: model, body: body, baseURL: baseURL(request), state: state)
            default: return notFound("Method \(method) is not found.")
            }
        }
        if request.method == "GET", rest.hasPrefix("models/"), rest.contains("/operations/") {
            return operation(rest, baseURL: baseURL(request), state: state)
        }
        if request.method == "GET", rest.hasPrefix("files/"), rest.hasSuffix(":download") {
            let id = String(rest.dropFirst("files/".count).dropLast(":download".count))
            let known = state.value.operations.values.contains { $0.file == id }
            guard known else { return notFound("File files/\(id) not found.") }
            return .raw(status: 302, contentType: "text/html", [], headers: [("Location", "\(baseURL(request))/storage/\(id)?sig=fake-signature&alt=media")])
        }
        return notFound("The requested URL \(path) was not found on this server.")
    }

    private static func baseURL(_ request: LoopbackRequest) -> String {
        "http://" + (request.header("host") ?? "127.0.0.1")
    }

    private static func json(_ request: LoopbackRequest) -> JSONValue? {
        guard request.header("content-type")?.hasPrefix("application/json") == true else { return nil }
        return try? JSONValue(parsing: request.body)
    }

    /// A field in either casing, as Google's request parsers take it.
    static func field(_ value: JSONValue?, _ camel: String) -> JSONValue? {
        guard let value else { return nil }
        if let found = value[camel] { return found }
        let snake = camel.reduce(into: "") { text, character in
            if character.isUppercase { text += "_" + character.lowercased() } else { text.append(character) }
        }
        return value[snake]
    }

    static func isBase64(_ value: JSONValue?) -> Bool {
        guard let text = value?.stringValue, !text.isEmpty else { return false }
        return Data(base64Encoded: text) != nil
    }

    static let imageAspectRatios: Set<String> = ["1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"]

    private static func generateContent(model: String, body: JSONValue, state: LoopbackState<State>) -> Reply {
        guard model.hasPrefix("gemini-"), state.value.models.contains(model) else {
            return notFound("models/\(model) is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.")
        }
        guard let contents = body["contents"]?.arrayValue, !contents.isEmpty else { return invalid("* GenerateContentRequest.contents: contents is not specified") }
        for (c, content) in contents.enumerated() {
            guard let parts = content["parts"]?.arrayValue, !parts.isEmpty else {
                return invalid("* GenerateContentRequest.contents[\(c)].parts: contents.parts must not be empty.")
            }
            for (p, part) in parts.enumerated() {
                if let inline = field(part, "inlineData") {
                    guard field(inline, "mimeType")?.stringValue != nil, isBase64(inline["data"]) else {
                        return invalid("Invalid value at 'contents[\(c)].parts[\(p)].inline_data.data' (TYPE_BYTES), Base64 decoding failed")
                    }
                } else if part["text"]?.stringValue == nil, field(part, "fileData") == nil {
                    return invalid("* GenerateContentRequest.contents[\(c)].parts[\(p)].data: required oneof field 'data' must have one initialized field")
                }
            }
        }
        let config = field(body, "generationConfig")
        let mime = field(config, "responseMimeType")?.stringValue
        if let mime, !["text/plain", "application/json", "text/x.enum"].contains(mime) {
            return invalid("* GenerateContentRequest.generation_config.response_mime_type: allowed mimetypes are `text/plain`, `application/json`, and `text/x.enum`.")
        }
        let jsonSchema = field(config, "responseJsonSchema"), schema = field(config, "responseSchema")
        if jsonSchema != nil, schema != nil { return invalid("response_schema and response_json_schema cannot both be set.") }
        if jsonSchema != nil || schema != nil, mime != "application/json" {
            return invalid("* GenerateContentRequest.generation_config.response_mime_type: must be application/json when a response schema is given.")
        }
        for modality in field(config, "responseModalities")?.arrayValue ?? [] where !["TEXT", "IMAGE", "AUDIO"].contains(modality.stringValue?.uppercased() ?? "") {
            return invalid("Invalid value at 'generation_config.response_modalities' (type.googleapis.com/google.ai.generativelanguage.v1beta.GenerationConfig.Modality), \"\(modality.stringValue ?? "")\"")
        }
        if let seed = config?["seed"], seed.intValue.map({ $0 < Int64(Int32.min) || $0 > Int64(Int32.max) }) ?? true {
            return invalid("Invalid value at 'generation_config.seed' (TYPE_INT32), \(seed.intValue.map(String.init) ?? "not an integer")")
        }
        if let imageConfig = field(config, "imageConfig") {
            if let aspect = field(imageConfig, "aspectRatio")?.stringValue, !imageAspectRatios.contains(aspect) {
                return invalid("* GenerateContentRequest.generation_config.image_config.aspect_ratio: Unsupported aspect ratio \(aspect).")
            }
            if let size = field(imageConfig, "imageSize")?.stringValue, !["1K", "2K", "4K"].contains(size) {
                return invalid("* GenerateContentRequest.generation_config.image_config.image_size: Unsupported image size \(size).")
            }
        }
        let values = state.value
        let responseID = "resp-\(UUID().uuidString.prefix(12))"
        if model.contains("image") {
            return .json(status: 200, [
                "candidates": [[
                    "content": ["role": "model", "parts": [
                        ["text": "Here is the picture you asked for."],
                        ["inlineData": ["mimeType": .string(values.imageMimeType), "data": .string(Data(values.imageMedia).base64EncodedString())]],
                    ]],
                    "finishReason": "STOP", "index": 0,
                ]],
                "usageMetadata": ["promptTokenCount": 12, "candidatesTokenCount": 1290, "totalTokenCount": 1302,
                                  "candidatesTokensDetails": [["modality": "IMAGE", "tokenCount": 1290]]],
                "modelVersion": .string(model), "responseId": .string(responseID),
            ])
        }
        let text = jsonSchema != nil || schema != nil ? values.storyboardText : "plain words"
        return .json(status: 200, [
            "candidates": [["content": ["role": "model", "parts": [["text": .string(text)]]], "finishReason": "STOP", "index": 0]],
            "usageMetadata": ["promptTokenCount": 40, "candidatesTokenCount": 60, "totalTokenCount": 100],
            "modelVersion": .string(model), "responseId": .string(responseID),
        ])
    }

    /// Veo's images in the Gemini API: `bytesBase64Encoded` and `mimeType`. The REST page shows
    /// `inlineData`, but Veo answers that with a 400, as clients found; so does the fake.
    private static func veoImageProblem(_ image: JSONValue, at path: String) -> Reply? {
        if field(image, "inlineData") != nil { return invalid("`inlineData` isn't supported by this model.") }
        guard field(image, "mimeType")?.stringValue != nil, isBase64(field(image, "bytesBase64Encoded")) else {
            return invalid("\(path): an image needs bytesBase64Encoded (base64) and mimeType.")
        }
        return nil
    }

    private static func predictLongRunning(model: String, body: JSONValue, baseURL: String, state: LoopbackState<State>) -> Reply {
        guard model.hasPrefix("veo-"), state.value.models.contains(model) else {
            return notFound("models/\(model) is not found for API version v1beta, or is not supported for predictLongRunning.")
        }
        guard let instances = body["instances"]?.arrayValue, instances.count == 1, let instance = instances.first else {
            return invalid("instances: exactly one instance is required.")
        }
        let image = instance["image"], lastFrame = field(instance, "lastFrame"), references = field(instance, "referenceImages")?.arrayValue
        guard instance["prompt"]?.stringValue.map({ !$0.isEmpty }) ?? (image != nil) else { return invalid("A prompt is required.") }
        if let image, let problem = veoImageProblem(image, at: "instances[0].image") { return problem }
        if let lastFrame {
            guard image != nil else { return invalid("lastFrame can only be used together with image.") }
            if let problem = veoImageProblem(lastFrame, at: "instances[0].lastFrame") { return problem }
        }
        if let references {
            guard references.count <= 3 else { return invalid("referenceImages: at most 3 images.") }
            for (index, reference) in references.enumerated() {
                guard let image = reference["image"] else { return invalid("instances[0].referenceImages[\(index)].image is required.") }
                if let problem = veoImageProblem(image, at: "instances[0].referenceImages[\(index)].image") { return problem }
            }
        }
        let parameters = body["parameters"]
        let aspect = field(parameters, "aspectRatio")?.stringValue ?? "16:9"
        guard ["16:9", "9:16"].contains(aspect) else { return invalid("aspectRatio must be 16:9 or 9:16, got \(aspect).") }
        let resolution = parameters?["resolution"]?.stringValue ?? "720p"
        guard ["720p", "1080p", "4k"].contains(resolution) else { return invalid("resolution must be 720p, 1080p or 4k, got \(resolution).") }
        let durationValue = field(parameters, "durationSeconds")
        let seconds = durationValue?.intValue ?? durationValue?.stringValue.flatMap { Int64($0) } ?? 8
        guard [4, 6, 8].contains(seconds) else { return invalid("durationSeconds must be 4, 6 or 8, got \(durationValue.map { "\($0)" } ?? "").") }
        if resolution != "720p", seconds != 8 { return invalid("\(resolution) is only supported with durationSeconds 8.") }
        if references?.isEmpty == false, seconds != 8 { return invalid("referenceImages require durationSeconds 8.") }
        if let person = field(parameters, "personGeneration")?.stringValue, !["allow_all", "allow_adult", "dont_allow"].contains(person) {
            return invalid("personGeneration \(person) is not supported.")
        }
        let name: String = state.withLock {
            let serial = $0.nextID
            $0.nextID += 1
            let name = "models/\(model)/operations/op-\(serial)"
            $0.operations[name] = Operation(model: model, pollsUntilDone: $0.pollsUntilDone, outcome: $0.videoOutcome, file: "video-\(serial)")
            return name
        }
        return .json(status: 200, ["name": .string(name)])
    }

    private static func operation(_ name: String, baseURL: String, state: LoopbackState<State>) -> Reply {
        let found: Operation? = state.withLock {
            guard var operation = $0.operations[name] else { return nil }
            operation.polls += 1
            $0.operations[name] = operation
            return operation
        }
        guard let operation = found else { return notFound("Operation \(name) not found.") }
        if operation.outcome == .never || operation.polls < operation.pollsUntilDone {
            return .json(status: 200, ["name": .string(name)])
        }
        let type = "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse"
        switch operation.outcome {
        case .succeed, .never:
            return .json(status: 200, [
                "name": .string(name), "done": true,
                "response": ["@type": .string(type), "generateVideoResponse": [
                    "generatedSamples": [["video": ["uri": .string("\(baseURL)/v1beta/files/\(operation.file):download?alt=media")]]],
                ]],
            ])
        case .fail(let code, let message):
            return .json(status: 200, ["name": .string(name), "done": true, "error": ["code": .int(Int64(code)), "message": .string(message)]])
        case .filtered(let reasons):
            return .json(status: 200, [
                "name": .string(name), "done": true,
                "response": ["@type": .string(type), "generateVideoResponse": [
                    "raiMediaFilteredCount": .int(Int64(reasons.count)), "raiMediaFilteredReasons": .array(reasons.map(JSONValue.string)),
                ]],
            ])
        }
    }
}
