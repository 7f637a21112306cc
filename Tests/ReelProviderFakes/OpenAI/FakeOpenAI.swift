import Foundation
import ReelCore
import ReelLoopbackHTTP

/// A stand-in for api.openai.com written from OpenAI's API reference: the real paths under
/// `/v1`, `Authorization: Bearer`, JSON and multipart bodies checked as the API checks them,
/// `x-request-id` on every answer and errors in the documented `{"error": {…}}` shape. Tests
/// queue special answers per route ("POST /v1/responses"); without one a route answers as the
/// API does when all goes well.
public final class FakeOpenAI: FakeKnobs, Sendable {
    public static let key = "sk-test-fake-0123456789abcdef"

    public typealias Reply = FakeReply

    /// What becomes of a video once created, without a test moving it along by hand.
    public enum VideoProgress: Sendable {
        /// Stays queued until ``setVideo(_:status:error:)``.
        case manual
        /// Completed when polled for the `polls`-th time (0: already on the first poll).
        case completeAfter(polls: Int)
        /// Failed with `error` when polled for the `polls`-th time.
        case failAfter(polls: Int, error: JSONValue)
    }

    public struct State: Sendable {
        public var scripted: [String: [Reply]] = [:]
        public var requests: [LoopbackRequest] = []
        public var videos: [String: JSONValue] = [:]
        /// Video ids in the order they were made, oldest first: `GET /v1/videos` lists them.
        public var videoOrder: [String] = []
        public var nextID = 1
        /// Creates (text, image and video calls a real account would be billed for) answered 2xx.
        public var createCount = 0
        /// While set, an accepted create is recorded and counted but its answer is withheld until
        /// the client's connection closes: the window between the provider taking the work and
        /// the client learning its id, where a crash leaves a paid generation unrecorded.
        public var holdCreates = false
        public var image: [UInt8] = FakeOpenAI.imageBytes
        public var video: [UInt8] = FakeOpenAI.videoBytes
        public var videoProgress: VideoProgress = .manual
        /// Polls so far per video id.
        public var videoPolls: [String: Int] = [:]
        /// What a structured (JSON Schema) text answer says: a storyboard.
        public var storyboardText = #"{"title":"The Fair","scenes":[{"shot":"wide"}]}"#
    }

    /// The routes whose 2xx answers ``createCount`` counts and ``holdCreates`` withholds.
    public static let createRoutes: Set<String> = [
        "POST /v1/responses", "POST /v1/chat/completions", "POST /v1/images/generations", "POST /v1/images/edits", "POST /v1/videos",
    ]

    /// The bytes every image answer carries (base64) from now on; ``imageBytes`` until set.
    public var servedImage: [UInt8] {
        get { state.value.image }
        set { state.withLock { $0.image = newValue } }
    }

    /// The bytes every video download returns from now on; ``videoBytes`` until set.
    public var servedVideo: [UInt8] {
        get { state.value.video }
        set { state.withLock { $0.video = newValue } }
    }

    public let state: LoopbackState<State>
    public let server: LoopbackServer
    /// The picture every image answer carries and the bytes every video download returns.
    public static let imageBytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + (0..<300).map { UInt8(truncatingIfNeeded: $0 * 7) }
    public static let videoBytes: [UInt8] = Array("....ftypisom".utf8) + (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ $0 >> 9) }

    public init() throws {
        let state = LoopbackState(State())
        self.state = state
        server = try LoopbackServer { request, connection in
            FakeOpenAI.handle(request, connection, state: state)
        }
    }

    deinit { server.stop() }

    public var baseURL: String { server.baseURL + "/v1" }

    public func script(_ route: String, _ replies: Reply...) {
        state.withLock { $0.scripted[route, default: []] += replies }
    }

    public func requests(_ route: String) -> [LoopbackRequest] {
        state.value.requests.filter { "\($0.method) \($0.path)" == route }
    }

    /// Moves a video along as OpenAI's workers would.
    public func setVideo(_ id: String, status: String, error: JSONValue = .null) {
        Self.setVideo(id, status: status, error: error, state: state)
    }

    private static func setVideo(_ id: String, status: String, error: JSONValue = .null, state: LoopbackState<State>) {
        state.withLock {
            guard case .object(var video) = $0.videos[id] else { return }
            video["status"] = .string(status)
            video["progress"] = status == "completed" ? 100 : 50
            video["error"] = error
            $0.videos[id] = .object(video)
        }
    }

    public static func errorBody(_ message: String, type: String, code: String?, param: String? = nil) -> JSONValue {
        ["error": ["message": .string(message), "type": .string(type), "param": param.map(JSONValue.string) ?? .null, "code": code.map(JSONValue.string) ?? .null]]
    }

    // MARK: Serving

    private static func handle(_ request: LoopbackRequest, _ connection: LoopbackConnection, state: LoopbackState<State>) {
        let route = "\(request.method) \(request.path)"
        let requestID = "req_\(UUID().uuidString.prefix(8))"
        let scripted: Reply? = state.withLock {
            $0.requests.append(request)
            return $0.scripted[route]?.isEmpty == false ? $0.scripted[route]!.removeFirst() : nil
        }
        var base: [(String, String)] = [("x-request-id", requestID), ("openai-version", "2020-10-01")]
        guard request.header("authorization") == "Bearer \(key)" else {
            send(.json(status: 401, errorBody("Incorrect API key provided: sk-te***. You can find your API key at https://platform.openai.com/account/api-keys.", type: "invalid_request_error", code: "invalid_api_key")), connection, base)
            return
        }
        if let scripted {
            send(scripted, connection, base, route: route, state: state)
            return
        }
        base += [("x-ratelimit-limit-requests", "500"), ("x-ratelimit-remaining-requests", "499"), ("x-ratelimit-reset-requests", "120ms")]
        send(answer(request, route: route, state: state), connection, base, route: route, state: state)
    }

    /// Sends `reply`, counting an accepted create, and withholding it while creates are held.
    private static func send(_ reply: Reply, _ connection: LoopbackConnection, _ base: [(String, String)], route: String, state: LoopbackState<State>) {
        if createRoutes.contains(route), reply.isSuccess {
            let hold = state.withLock {
                $0.createCount += 1
                return $0.holdCreates
            }
            if hold {
                // The client is expected to die or give up; a stopped server closes it too.
                _ = connection.waitUntilClosed(timeout: .seconds(600))
                return
            }
        }
        send(reply, connection, base)
    }

    private static func send(_ reply: Reply, _ connection: LoopbackConnection, _ base: [(String, String)]) {
        reply.send(on: connection, headers: base)
    }

    private static func invalid(_ message: String, param: String? = nil) -> Reply {
        .json(status: 400, errorBody(message, type: "invalid_request_error", code: "invalid_value", param: param))
    }

    private static func answer(_ request: LoopbackRequest, route: String, state: LoopbackState<State>) -> Reply {
        switch route {
        case "POST /v1/responses": return responses(request, storyboard: state.value.storyboardText)
        case "POST /v1/chat/completions": return chat(request)
        case "POST /v1/images/generations": return imageGeneration(request, image: state.value.image)
        case "POST /v1/images/edits": return imageEdit(request, image: state.value.image)
        case "POST /v1/videos": return createVideo(request, state: state)
        case "GET /v1/videos": return listVideos(request, state: state)
        default: break
        }
        let parts = request.path.split(separator: "/").map(String.init)  // ["v1", "videos", id, "content"?]
        if parts.count >= 3, parts[0] == "v1", parts[1] == "videos" {
            let id = parts[2]
            guard let video = state.value.videos[id] else {
                return .json(status: 404, errorBody("Video with id '\(id)' not found.", type: "invalid_request_error", code: nil))
            }
            switch (request.method, parts.count) {
            case ("GET", 3):
                let video = advance(id, state: state) ?? video
                let pending = video["status"] == "queued" || video["status"] == "in_progress"
                return .json(status: 200, video, headers: pending ? [("openai-poll-after-ms", "2500")] : [])
            case ("GET", 4) where parts[3] == "content":
                guard video["status"]?.stringValue == "completed" else {
                    return .json(status: 400, errorBody("Video is not ready yet.", type: "invalid_request_error", code: nil))
                }
                return .raw(status: 200, contentType: "video/mp4", state.value.video)
            case ("DELETE", 3):
                state.withLock { _ = $0.videos.removeValue(forKey: id) }
                return .json(status: 200, ["id": .string(id), "object": "video.deleted", "deleted": true])
            default: break
            }
        }
        return .json(status: 404, errorBody("Invalid URL (\(route))", type: "invalid_request_error", code: nil))
    }

    private static func json(_ request: LoopbackRequest) -> JSONValue? {
        guard request.header("content-type")?.hasPrefix("application/json") == true else { return nil }
        return try? JSONValue(parsing: request.body)
    }

    private static func responses(_ request: LoopbackRequest, storyboard: String) -> Reply {
        guard let body = json(request), let model = body["model"]?.stringValue, body["input"] != nil else {
            return invalid("Missing required parameter: 'model' or 'input'.")
        }
        var text = "plain words"
        if let format = body["text"]?["format"] {
            // The Responses API's format is flat: type, name, schema, strict; no nested json_schema.
            guard format["type"] == "json_schema", format["name"]?.stringValue != nil, format["schema"]?.objectValue != nil, format["json_schema"] == nil else {
                return invalid("Invalid 'text.format': expected type, name and schema.", param: "text.format")
            }
            text = storyboard
        }
        return .json(status: 200, [
            "id": "resp_1", "object": "response", "status": "completed", "model": .string(model), "error": nil, "incomplete_details": nil,
            "output": [
                ["type": "reasoning", "id": "rs_1", "summary": []],
                ["type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
                 "content": [["type": "output_text", "text": .string(text), "annotations": []]]],
            ],
            "usage": ["input_tokens": 36, "output_tokens": 87, "total_tokens": 123],
        ])
    }

    private static func chat(_ request: LoopbackRequest) -> Reply {
        guard let body = json(request), let model = body["model"]?.stringValue, body["messages"]?.arrayValue != nil else {
            return invalid("Missing required parameter: 'model' or 'messages'.")
        }
        var text = "plain words"
        if let format = body["response_format"] {
            guard format["type"] == "json_schema", format["json_schema"]?["name"]?.stringValue != nil, format["json_schema"]?["schema"] != nil else {
                return invalid("Invalid 'response_format'.", param: "response_format")
            }
            text = #"{"title":"From Chat"}"#
        }
        return .json(status: 200, [
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1_741_569_952, "model": .string(model),
            "choices": [["index": 0, "message": ["role": "assistant", "content": .string(text), "refusal": nil, "annotations": []], "logprobs": nil, "finish_reason": "stop"]],
            "usage": ["prompt_tokens": 19, "completion_tokens": 10, "total_tokens": 29],
        ])
    }

    public static let gptImageSizes: Set<String> = ["auto", "1024x1024", "1536x1024", "1024x1536"]

    /// Whether `model` takes `size`, as the API reference lists them per model.
    public static func accepts(model: String, size: String) -> Bool {
        if model.hasPrefix("gpt-image-2") {
            if size == "auto" { return true }
            let sides = size.split(separator: "x").compactMap { Int($0) }
            guard sides.count == 2, sides.allSatisfy({ $0 > 0 && $0 % 16 == 0 }) else { return false }
            let (w, h) = (sides[0], sides[1])
            return max(w, h) <= 3840 && w * h <= 3840 * 2160 && w <= 3 * h && h <= 3 * w
        }
        if model.hasPrefix("dall-e-3") { return ["1024x1024", "1792x1024", "1024x1792"].contains(size) }
        if model.hasPrefix("dall-e-2") { return ["256x256", "512x512", "1024x1024"].contains(size) }
        return gptImageSizes.contains(size)
    }

    /// Counts a poll of video `id` and moves it along as ``videoProgress`` says; the video as it now is.
    private static func advance(_ id: String, state: LoopbackState<State>) -> JSONValue? {
        let (progress, polls): (VideoProgress, Int) = state.withLock {
            $0.videoPolls[id, default: 0] += 1
            return ($0.videoProgress, $0.videoPolls[id]!)
        }
        switch progress {
        case .manual: return nil
        case .completeAfter(let after):
            guard polls > after else { return nil }
        case .failAfter(let after, _):
            guard polls > after else { return nil }
        }
        if case .failAfter(_, let error) = progress {
            setVideo(id, status: "failed", error: error, state: state)
        } else {
            setVideo(id, status: "completed", state: state)
        }
        return state.value.videos[id]
    }

    private static func imageAnswer(size: String, image: [UInt8]) -> Reply {
        .json(status: 200, [
            "created": 1_713_833_628, "data": [["b64_json": .string(Data(image).base64EncodedString())]],
            "background": "opaque", "output_format": "png", "size": .string(size == "auto" ? "1024x1024" : size), "quality": "medium",
            "usage": ["input_tokens": 50, "input_tokens_details": ["text_tokens": 10, "image_tokens": 40], "output_tokens": 50, "total_tokens": 100],
        ])
    }

    private static func imageGeneration(_ request: LoopbackRequest, image: [UInt8]) -> Reply {
        guard let body = json(request), let prompt = body["prompt"]?.stringValue, !prompt.isEmpty, body["model"]?.stringValue != nil else {
            return invalid("Missing required parameter: 'prompt'.", param: "prompt")
        }
        // No size: the model's default, which every model has.
        guard let size = body["size"]?.stringValue else { return imageAnswer(size: "auto", image: image) }
        guard accepts(model: body["model"]?.stringValue ?? "", size: size) else {
            return invalid("Invalid value: '\(size)'. Supported values are: '1024x1024', '1024x1536', '1536x1024', and 'auto'.", param: "size")
        }
        return imageAnswer(size: size, image: image)
    }

    private static func imageEdit(_ request: LoopbackRequest, image: [UInt8]) -> Reply {
        guard let parts = MultipartParts(request), parts.text("prompt") != nil, parts.text("model") != nil else {
            return invalid("Missing required parameter: 'prompt'.", param: "prompt")
        }
        guard !parts.files("image[]").isEmpty || !parts.files("image").isEmpty else {
            return invalid("Missing required parameter: 'image'.", param: "image")
        }
        let size = parts.text("size") ?? "1024x1024"
        guard accepts(model: parts.text("model") ?? "", size: size) else { return invalid("Invalid value: '\(size)'.", param: "size") }
        return imageAnswer(size: size, image: image)
    }

    public static let videoSeconds: Set<String> = ["4", "8", "12"]
    public static let videoSizes: Set<String> = ["720x1280", "1280x720", "1024x1792", "1792x1024"]

    private static func createVideo(_ request: LoopbackRequest, state: LoopbackState<State>) -> Reply {
        // The API takes JSON too, but OpenAI's clients send multipart; this fake takes what reeld sends.
        guard let parts = MultipartParts(request), let prompt = parts.text("prompt"), !prompt.isEmpty else {
            return invalid("Missing required parameter: 'prompt'.", param: "prompt")
        }
        let seconds = parts.text("seconds") ?? "4"
        guard videoSeconds.contains(seconds) else { return invalid("Invalid value: '\(seconds)'.", param: "seconds") }
        let size = parts.text("size") ?? "720x1280"
        guard videoSizes.contains(size) else { return invalid("Invalid value: '\(size)'.", param: "size") }
        let video = addVideo(model: parts.text("model") ?? "sora-2", prompt: prompt, seconds: seconds, size: size, state: state)
        return .json(status: 200, video, headers: [("openai-poll-after-ms", "2500")])
    }

    /// Adds a queued video, as if this account had asked for it (from another job, another
    /// client, or before), created at `createdAt` (now by default); returns its id.
    @discardableResult
    public func addVideo(model: String = "sora-2", prompt: String, seconds: String = "4", size: String = "720x1280", createdAt: Date = Date()) -> String {
        Self.addVideo(model: model, prompt: prompt, seconds: seconds, size: size, createdAt: createdAt, state: state)["id"]!.stringValue!
    }

    private static func addVideo(model: String, prompt: String, seconds: String, size: String, createdAt: Date = Date(),
                                 state: LoopbackState<State>) -> JSONValue {
        state.withLock {
            let id = "video_\($0.nextID)"
            $0.nextID += 1
            let video: JSONValue = [
                "id": .string(id), "object": "video", "model": .string(model), "status": "queued", "progress": 0,
                "created_at": .int(Int64(createdAt.timeIntervalSince1970)), "completed_at": nil, "expires_at": nil,
                "prompt": .string(prompt), "size": .string(size), "seconds": .string(seconds), "remixed_from_video_id": nil, "error": nil,
            ]
            $0.videos[id] = video
            $0.videoOrder.append(id)
            return video
        }
    }

    /// `GET /v1/videos?limit=&after=&order=`: a page of the account's videos (deleted ones
    /// gone), newest first unless `order=asc`, after the id `after`.
    private static func listVideos(_ request: LoopbackRequest, state: LoopbackState<State>) -> Reply {
        let query = URLComponents(string: "http://x" + request.target)?.queryItems ?? []
        func item(_ name: String) -> String? { query.first { $0.name == name }?.value }
        let limit = item("limit").flatMap(Int.init) ?? 20
        guard (1...100).contains(limit) else { return invalid("Invalid value: '\(limit)'.", param: "limit") }
        let (ids, videos) = state.withLock { state in (state.videoOrder.filter { state.videos[$0] != nil }, state.videos) }
        var ordered = item("order") == "asc" ? ids : ids.reversed()
        if let after = item("after") {
            guard let index = ordered.firstIndex(of: after) else { return invalid("Invalid value: '\(after)'.", param: "after") }
            ordered = Array(ordered[(index + 1)...])
        }
        let page = ordered.prefix(limit)
        return .json(status: 200, [
            "object": "list", "data": .array(page.compactMap { videos[$0] }),
            "first_id": page.first.map(JSONValue.string) ?? .null, "last_id": page.last.map(JSONValue.string) ?? .null,
            "has_more": .bool(ordered.count > limit),
        ])
    }
}

private extension FakeReply {
    /// Whether a create answered with this took the work (and would be billed).
    var isSuccess: Bool {
        switch self {
        case .json(let status, _, _), .raw(let status, _, _, _): (200..<300).contains(status)
        case .truncated: true
        case .stall: false
        }
    }
}
