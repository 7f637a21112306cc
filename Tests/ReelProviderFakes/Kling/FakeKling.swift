import Crypto
import Foundation
import ReelCore
import ReelLoopbackHTTP

/// A stand-in for api-singapore.klingai.com written from Kling's API docs: the task endpoints
/// under `/v1`, a JWT (HS256, `iss` = access key, signed with the secret key) verified on every
/// call with the documented 1001–1004 codes, create bodies checked as the docs say (1201 with a
/// message otherwise), tasks that move `submitted` → `processing` → `succeed` | `failed` as they
/// are polled, and the outputs served from `/cdn/…` on the same server as Kling's CDN would.
///
/// Every answer has the `{code, message, request_id, data}` envelope. Tests queue special
/// answers per route ("POST /v1/videos/text2video"); without one a route answers as Kling does
/// when all goes well.
public final class FakeKling: FakeKnobs, Sendable {
    public static let accessKey = "ak-fake-kling-0123"
    public static let secretKey = "sk-fake-kling-secret-abcdefghijklmnop"

    public typealias Reply = FakeReply

    /// What a new task does as it is polled.
    public enum TaskBehaviour: Sendable, Hashable {
        /// `succeed` on the `polls`-th query after creation (1: the first query); `processing` before.
        case succeed(afterPolls: Int)
        /// `failed` with this `task_status_msg` on the first query.
        case fail(message: String)
        /// `processing` for ever.
        case neverFinish
    }

    public struct TaskRecord: Sendable {
        public var id: String
        /// "text2video", "image2video", "omni-video" or "generations".
        public var endpoint: String
        public var externalID: String?
        public var body: JSONValue
        public var behaviour: TaskBehaviour
        public var polls = 0
        public var createdAt: Int64
    }

    public struct State: Sendable {
        public var scripted: [String: [Reply]] = [:]
        public var requests: [LoopbackRequest] = []
        public var tasks: [TaskRecord] = []
        /// Where the fake's CDN is: the server's own address.
        public var cdnBaseURL = ""
        public var nextID: Int64 = 860_000_000_000_000_001
        /// Create calls accepted (tasks made), held ones included.
        public var createCount = 0
        /// When on, a create is accepted (the task exists and is counted) but its answer is withheld
        /// until the client closes the connection: the window between "Kling took it" and "reeld
        /// recorded the task id".
        public var holdCreates = false
        /// What tasks created from now on do.
        public var taskBehaviour: TaskBehaviour = .succeed(afterPolls: 1)
        /// When set, every answer about a task still pending carries `Retry-After` (whole seconds,
        /// at least 1): Kling documents no pace, so the adapter honours one when a server sends it.
        /// Lets a whole node poll quickly in tests instead of at the adapter's 15 s default.
        public var pollAfter: Duration?
        /// The bytes every finished video (every image) is served as; real decodable media for tests
        /// that render a film from them.
        public var videoBytes: [UInt8]
        public var imageBytes: [UInt8]
        /// The access/secret key pairs the fake accepts.
        public var keys: [String: String] = [FakeKling.accessKey: FakeKling.secretKey]
    }

    public let state: LoopbackState<State>
    public let server: LoopbackServer

    public static let defaultImageBytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + (0..<400).map { UInt8(truncatingIfNeeded: $0 * 11) }
    public static let defaultVideoBytes: [UInt8] = Array("....ftypisom".utf8) + (0..<150_000).map { UInt8(truncatingIfNeeded: $0 &* 29 &+ $0 >> 7) }

    public init(videoBytes: [UInt8] = FakeKling.defaultVideoBytes, imageBytes: [UInt8] = FakeKling.defaultImageBytes) throws {
        let state = LoopbackState(State(videoBytes: videoBytes, imageBytes: imageBytes))
        self.state = state
        server = try LoopbackServer { request, connection in
            FakeKling.handle(request, connection, state: state)
        }
        let base = server.baseURL
        state.withLock { $0.cdnBaseURL = base }
    }

    deinit { server.stop() }

    /// The API root to configure (`base_url`); paths start with `/v1`.
    public var baseURL: String { server.baseURL }

    // MARK: Knobs for tests

    public func script(_ route: String, _ replies: Reply...) {
        state.withLock { $0.scripted[route, default: []] += replies }
    }

    /// Requests received on a route ("GET /v1/videos/text2video/8600…"), query excluded.
    public func requests(_ route: String) -> [LoopbackRequest] {
        state.value.requests.filter { "\($0.method) \($0.path)" == route }
    }

    public func requestCount(_ route: String) -> Int { requests(route).count }

    /// Every request with its route, in arrival order.
    public var routes: [String] { state.value.requests.map { "\($0.method) \($0.path)" } }

    /// Waits until `count` creates were accepted; for tests that must act while one is held.
    public func waitForCreates(_ count: Int, timeout: Duration = .seconds(30)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if self.createCount >= count { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return self.createCount >= count
    }

    /// Sets what an existing task does next.
    public func setTask(_ id: String, _ behaviour: TaskBehaviour) {
        state.withLock { state in
            if let index = state.tasks.firstIndex(where: { $0.id == id }) {
                state.tasks[index].behaviour = behaviour
                state.tasks[index].polls = 0
            }
        }
    }

    public static func errorBody(_ code: Int, _ message: String, requestID: String = FakeKling.newRequestID()) -> JSONValue {
        ["code": .int(Int64(code)), "message": .string(message), "request_id": .string(requestID)]
    }

    public static func error(_ status: Int, _ code: Int, _ message: String) -> Reply {
        .json(status: status, errorBody(code, message))
    }

    public static func newRequestID() -> String { UUID().uuidString.lowercased() }

    // MARK: Serving

    private static func handle(_ request: LoopbackRequest, _ connection: LoopbackConnection, state: LoopbackState<State>) {
        let route = "\(request.method) \(request.path)"
        let scripted: Reply? = state.withLock {
            $0.requests.append(request)
            return $0.scripted[route]?.isEmpty == false ? $0.scripted[route]!.removeFirst() : nil
        }
        if request.path.hasPrefix("/cdn/") {
            // The CDN: signed links, no token.
            (scripted ?? media(request, state: state)).send(on: connection, headers: [])
            return
        }
        if let refusal = authenticate(request, keys: state.value.keys) {
            refusal.send(on: connection, headers: [])
            return
        }
        if let scripted {
            scripted.send(on: connection, headers: [])
            return
        }
        let (reply, hold) = answer(request, state: state)
        if hold {
            _ = connection.waitUntilClosed(timeout: .seconds(600))
            return
        }
        reply.send(on: connection, headers: [])
    }

    /// The documented checks, in order: a header, a JWT, a known issuer and its signature, nbf, exp.
    static func authenticate(_ request: LoopbackRequest, keys: [String: String]) -> Reply? {
        guard let header = request.header("authorization"), !header.isEmpty else {
            return error(401, 1001, "Authorization is empty")
        }
        // Exactly one space after "Bearer", as the docs insist.
        guard header.hasPrefix("Bearer "), !header.dropFirst(7).hasPrefix(" ") else { return error(401, 1002, "Authorization is invalid") }
        let parts = header.dropFirst(7).split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, let head = base64URL(parts[0]).flatMap({ try? JSONValue(parsing: $0) }),
            let claims = base64URL(parts[1]).flatMap({ try? JSONValue(parsing: $0) }), let signature = base64URL(parts[2])
        else { return error(401, 1002, "Authorization is invalid") }
        guard head["alg"] == "HS256", let issuer = claims["iss"]?.stringValue, let secret = keys[issuer] else {
            return error(401, 1002, "Authorization is invalid")
        }
        let mac = HMAC<SHA256>.authenticationCode(for: Array((parts[0] + "." + parts[1]).utf8), using: SymmetricKey(data: Array(secret.utf8)))
        guard Array(mac) == signature else { return error(401, 1002, "Authorization is invalid") }
        let now = Int64(Date().timeIntervalSince1970)
        if let notBefore = claims["nbf"]?.intValue, notBefore > now { return error(401, 1003, "Authorization is not yet valid") }
        guard let expires = claims["exp"]?.intValue else { return error(401, 1002, "Authorization is invalid") }
        if expires < now { return error(401, 1004, "Authorization has expired") }
        return nil
    }

    static func base64URL(_ text: String) -> [UInt8]? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64).map(Array.init)
    }

    static let endpoints: [String: String] = [
        "/v1/videos/text2video": "text2video", "/v1/videos/image2video": "image2video", "/v1/videos/omni-video": "omni-video",
        "/v1/images/generations": "generations",
    ]

    private static func answer(_ request: LoopbackRequest, state: LoopbackState<State>) -> (Reply, hold: Bool) {
        if request.method == "POST", let endpoint = endpoints[request.path] {
            return create(request, endpoint: endpoint, state: state)
        }
        if request.method == "GET" {
            if let endpoint = endpoints[request.path] { return (list(request, endpoint: endpoint, state: state), false) }
            let parent = String(request.path[..<(request.path.lastIndex(of: "/") ?? request.path.endIndex)])
            if let endpoint = endpoints[parent] {
                let id = String(request.path[request.path.index(after: request.path.lastIndex(of: "/")!)...])
                return (query(id, endpoint: endpoint, state: state), false)
            }
        }
        return (error(404, 1202, "The requested method is invalid"), false)
    }

    private static func invalid(_ message: String) -> Reply { error(400, 1201, message) }

    private static func create(_ request: LoopbackRequest, endpoint: String, state: LoopbackState<State>) -> (Reply, hold: Bool) {
        guard request.header("content-type")?.hasPrefix("application/json") == true, let body = try? JSONValue(parsing: request.body), body.objectValue != nil else {
            return (invalid("request body must be a JSON object"), false)
        }
        if let refusal = validate(body, endpoint: endpoint) { return (refusal, false) }
        let external = body["external_task_id"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        let made: Result<(TaskRecord, Bool), FakeKlingRefusal> = state.withLock { state in
            if let external, state.tasks.contains(where: { $0.externalID == external }) {
                return .failure(FakeKlingRefusal(message: "external_task_id already exists"))
            }
            let task = TaskRecord(
                id: String(state.nextID), endpoint: endpoint, externalID: external, body: body, behaviour: state.taskBehaviour,
                createdAt: Int64(Date().timeIntervalSince1970 * 1000))
            state.nextID += 7919
            state.tasks.append(task)
            state.createCount += 1
            return .success((task, state.holdCreates))
        }
        switch made {
        case .failure(let refusal): return (invalid(refusal.message), false)
        case .success(let (task, hold)):
            var data: [String: JSONValue] = [
                "task_id": .string(task.id), "task_status": "submitted", "created_at": .int(task.createdAt), "updated_at": .int(task.createdAt),
            ]
            data["task_info"] = external.map { JSONValue.object(["external_task_id": .string($0)]) } ?? .object([:])
            let reply = JSONValue.object(["code": 0, "message": "SUCCEED", "request_id": .string(newRequestID()), "data": .object(data)])
            return (.json(status: 200, reply, headers: paceHeaders(state.value.pollAfter)), hold)
        }
    }

    static let videoModels: Set<String> = [
        "kling-v1", "kling-v1-5", "kling-v1-6", "kling-v2-master", "kling-v2-1", "kling-v2-1-master", "kling-v2-5-turbo", "kling-v2-6", "kling-v3",
    ]
    static let omniModels: Set<String> = ["kling-video-o1", "kling-v3-omni"]
    static let imageModels: Set<String> = ["kling-v1", "kling-v1-5", "kling-v2", "kling-v2-new", "kling-v2-1", "kling-v3"]
    static let imageRatios: Set<String> = ["16:9", "9:16", "1:1", "4:3", "3:4", "3:2", "2:3", "21:9"]

    /// The documented parameter rules; a refusal names the field as Kling's `message` does.
    static func validate(_ body: JSONValue, endpoint: String) -> Reply? {
        let prompt = body["prompt"]?.stringValue
        if let prompt, prompt.count > 2500 { return invalid("prompt length must be at most 2500") }
        if let negative = body["negative_prompt"]?.stringValue, negative.count > 2500 { return invalid("negative_prompt length must be at most 2500") }
        for key in ["external_task_id", "callback_url", "prompt", "negative_prompt", "model_name"] where body[key] != nil && body[key]?.stringValue == nil {
            return invalid("\(key) must be a string")
        }
        let model = body["model_name"]?.stringValue ?? (endpoint == "omni-video" ? "kling-video-o1" : "kling-v1")
        if endpoint == "generations" {
            guard imageModels.contains(model) else { return error(404, 1203, "model_name \(model) does not exist") }
            guard let prompt, !prompt.isEmpty else { return invalid("prompt is required") }
            if let n = body["n"] { guard let count = n.intValue, (1...9).contains(count) else { return invalid("n must be in [1, 9]") } }
            if let ratio = body["aspect_ratio"] { guard let text = ratio.stringValue, imageRatios.contains(text) else { return invalid("aspect_ratio is invalid") } }
            if let image = body["image"] {
                if let refusal = checkImage(image, field: "image") { return refusal }
                if body["negative_prompt"]?.stringValue?.isEmpty == false { return invalid("negative_prompt is not supported with image") }
            }
            return nil
        }
        if let mode = body["mode"] { guard mode == "std" || mode == "pro" else { return invalid("mode must be std or pro") } }
        if let duration = body["duration"] {
            guard let text = duration.stringValue, let seconds = Int(text) else { return invalid("duration must be a string such as \"5\"") }
            let allowed: ClosedRange<Int> = model == "kling-video-o1" ? 3...10 : model.hasPrefix("kling-v3") ? 3...15 : 5...10
            guard allowed.contains(seconds), allowed.lowerBound == 3 || seconds == 5 || seconds == 10 else {
                return invalid("duration \(text) is not supported by \(model)")
            }
        }
        if let cfg = body["cfg_scale"] {
            guard let value = cfg.doubleValue, (0...1).contains(value) else { return invalid("cfg_scale must be in [0, 1]") }
            if model.hasPrefix("kling-v2") || model.hasPrefix("kling-v3") { return invalid("cfg_scale is not supported by \(model)") }
        }
        switch endpoint {
        case "text2video":
            guard videoModels.contains(model) else { return error(404, 1203, "model_name \(model) does not exist") }
            if body["multi_shot"] != true { guard let prompt, !prompt.isEmpty else { return invalid("prompt is required") } }
            if let ratio = body["aspect_ratio"] { guard ratio == "16:9" || ratio == "9:16" || ratio == "1:1" else { return invalid("aspect_ratio is invalid") } }
        case "image2video":
            guard videoModels.contains(model) else { return error(404, 1203, "model_name \(model) does not exist") }
            let image = body["image"].flatMap { $0.stringValue?.isEmpty == false ? $0 : nil }
            let tail = body["image_tail"].flatMap { $0.stringValue?.isEmpty == false ? $0 : nil }
            guard image != nil || tail != nil else { return invalid("image or image_tail is required") }
            if let image, let refusal = checkImage(image, field: "image") { return refusal }
            if let tail, let refusal = checkImage(tail, field: "image_tail") { return refusal }
            if tail != nil, body["camera_control"] != nil { return invalid("image_tail and camera_control cannot be used together") }
            // aspect_ratio is not a documented field here; tolerated and ignored.
        case "omni-video":
            guard omniModels.contains(model) else { return error(404, 1203, "model_name \(model) does not exist") }
            guard let prompt, !prompt.isEmpty else { return invalid("prompt is required") }
            let images = body["image_list"]?.arrayValue ?? []
            for item in images {
                guard let url = item["image_url"] else { return invalid("image_list[].image_url is required") }
                if let refusal = checkImage(url, field: "image_list[].image_url") { return refusal }
                if let type = item["type"] { guard type == "first_frame" || type == "end_frame" else { return invalid("image_list[].type is invalid") } }
            }
            let firstFrame = images.contains { $0["type"] == "first_frame" }
            if !firstFrame, body["video_list"] == nil {
                guard let ratio = body["aspect_ratio"], ratio == "16:9" || ratio == "9:16" || ratio == "1:1" else {
                    return invalid("aspect_ratio is required")
                }
            }
        default: break
        }
        return nil
    }

    /// A URL, or raw base64 of a jpg/png (no `data:` prefix).
    static func checkImage(_ value: JSONValue, field: String) -> Reply? {
        guard let text = value.stringValue, !text.isEmpty else { return invalid("\(field) must be a URL or base64 string") }
        if text.hasPrefix("http://") || text.hasPrefix("https://") { return nil }
        if text.hasPrefix("data:") { return invalid("\(field) must be base64 without a data: prefix") }
        guard let bytes = Data(base64Encoded: text), !bytes.isEmpty else { return invalid("\(field) is not valid base64") }
        guard bytes.count <= 10 << 20 else { return invalid("\(field) must be at most 10MB") }
        return nil
    }

    /// One task by its id or its external id, on the endpoint that made it; each query moves it along.
    private static func query(_ id: String, endpoint: String, state: LoopbackState<State>) -> Reply {
        let task: TaskRecord? = state.withLock { state in
            guard let index = state.tasks.firstIndex(where: { $0.endpoint == endpoint && ($0.id == id || $0.externalID == id) }) else { return nil }
            state.tasks[index].polls += 1
            return state.tasks[index]
        }
        guard let task else { return error(404, 1203, "task not found") }
        let pending = ["submitted", "processing"].contains(status(task).0)
        return .json(
            status: 200, ["code": 0, "message": "SUCCEED", "request_id": .string(newRequestID()), "data": taskJSON(task, base: state.value.cdnBaseURL)],
            headers: pending ? paceHeaders(state.value.pollAfter) : [])
    }

    static func paceHeaders(_ pollAfter: Duration?) -> [(String, String)] {
        guard let pollAfter else { return [] }
        return [("Retry-After", String(max(1, pollAfter.components.seconds)))]
    }

    /// The list form; `external_task_id` as a query parameter picks that task, as some clients use it.
    private static func list(_ request: LoopbackRequest, endpoint: String, state: LoopbackState<State>) -> Reply {
        let query = URLComponents(string: request.target)?.queryItems ?? []
        let external = query.first { $0.name == "external_task_id" }?.value
        let tasks = state.value.tasks.filter { $0.endpoint == endpoint && (external == nil || $0.externalID == external) }
        return .json(status: 200, ["code": 0, "message": "SUCCEED", "request_id": .string(newRequestID()), "data": .array(tasks.map { taskJSON($0, base: state.value.cdnBaseURL) })])
    }

    static func status(_ task: TaskRecord) -> (String, String) {
        switch task.behaviour {
        case .succeed(let polls): task.polls >= max(polls, 0) && task.polls > 0 ? ("succeed", "") : (task.polls == 0 ? "submitted" : "processing", "")
        case .fail(let message): task.polls > 0 ? ("failed", message) : ("submitted", "")
        case .neverFinish: (task.polls == 0 ? "submitted" : "processing", "")
        }
    }

    static func taskJSON(_ task: TaskRecord, base: String) -> JSONValue {
        let (status, message) = status(task)
        var data: [String: JSONValue] = [
            "task_id": .string(task.id), "task_status": .string(status), "task_status_msg": .string(message),
            "task_info": task.externalID.map { JSONValue.object(["external_task_id": .string($0)]) } ?? .object([:]),
            "created_at": .int(task.createdAt), "updated_at": .int(task.createdAt + Int64(task.polls) * 1000),
        ]
        if status == "succeed" {
            data["final_unit_deduction"] = "1"
            if task.endpoint == "generations" {
                data["task_result"] = ["images": [["index": 0, "url": .string("\(base)/cdn/\(task.id)/0.png")]]]
            } else {
                let duration = task.body["duration"]?.stringValue ?? "5"
                data["task_result"] = ["videos": [["id": .string("vid-\(task.id)"), "url": .string("\(base)/cdn/\(task.id)/0.mp4"), "duration": .string(duration)]]]
            }
            data["watermark_info"] = ["enabled": false]
        }
        return .object(data)
    }

    /// The CDN: a finished task's outputs, no token asked.
    private static func media(_ request: LoopbackRequest, state: LoopbackState<State>) -> Reply {
        let id = request.path.split(separator: "/").dropFirst().first.map(String.init) ?? ""
        guard state.value.tasks.contains(where: { $0.id == id }) else { return .raw(status: 404, contentType: "text/plain", Array("not found".utf8)) }
        if request.path.hasSuffix(".png") { return .raw(status: 200, contentType: "image/png", state.value.imageBytes) }
        return .raw(status: 200, contentType: "video/mp4", state.value.videoBytes)
    }
}

struct FakeKlingRefusal: Error {
    var message: String
}
