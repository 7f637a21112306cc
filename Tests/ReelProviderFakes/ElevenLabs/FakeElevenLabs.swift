import Foundation
import ReelCore
import ReelLoopbackHTTP

/// A stand-in for api.elevenlabs.io written from ElevenLabs' API reference: the real paths under
/// `/v1`, the `xi-api-key` header, JSON bodies checked as the API checks them (FastAPI's 422
/// list for a missing or out-of-range field, `{"detail": {"status", "message"}}` for the rest),
/// `request-id`, `character-cost` and the concurrency headers on every answer, and the audio
/// itself as the answer: every call is synchronous.
///
/// Tests queue special answers per route (`"POST /v1/sound-generation"`; text to speech as
/// `"POST /v1/text-to-speech/{voice_id}"` and `"…/{voice_id}/with-timestamps"`, any voice);
/// without one a route answers as the API does when all goes well. For node-level tests the
/// audio each kind serves can be set to real, decodable media, answers can be delayed, and
/// `holdCreates` accepts a call (counted) but withholds its answer until the client hangs up.
public final class FakeElevenLabs: FakeKnobs, Sendable {
    public static let key = "sk_fake_elevenlabs_0123456789abcdef0123456789abcdef"

    public typealias Reply = FakeReply

    public struct State: Sendable {
        public var scripted: [String: [Reply]] = [:]
        public var requests: [LoopbackRequest] = []
        /// Generation calls that passed the key check, answered or not.
        public var createCount = 0
        /// Calls accepted under `holdCreates` whose answer is (or was) withheld.
        public var heldCount = 0
        public var holdCreates = false
        /// Waited before each generation call's answer (a slow model).
        public var answerDelay: Duration = .zero
        /// Voice ids the account has; nil accepts any well-formed id.
        public var voices: Set<String>? = nil
        public var speechAudio: [UInt8]
        public var soundEffectAudio: [UInt8]
        public var musicAudio: [UInt8]
        public var nextID = 1
    }

    public let state: LoopbackState<State>
    public let server: LoopbackServer

    /// Placeholder audio: an ID3 header and noise, not decodable. Tests that render inject real media.
    public static let placeholderAudio: [UInt8] = Array("ID3".utf8) + [4, 0, 0, 0, 0, 0, 0] + (0..<4000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 5) }

    /// The `output_format` values of the API reference.
    public static let outputFormats: Set<String> = {
        var formats: Set<String> = ["alaw_8000", "ulaw_8000", "mp3_22050_32", "mp3_24000_48"]
        for rate in [32, 64, 96, 128, 192] { formats.insert("mp3_44100_\(rate)"); formats.insert("opus_48000_\(rate)") }
        for rate in [8000, 16000, 22050, 24000, 32000, 44100, 48000] { formats.insert("pcm_\(rate)"); formats.insert("wav_\(rate)") }
        return formats
    }()

    /// Characters per request by model; a longer text is refused with `max_character_limit_exceeded`.
    public static let characterLimits: [String: Int] = [
        "eleven_v3": 3000, "eleven_flash_v2_5": 40000, "eleven_turbo_v2_5": 40000, "eleven_flash_v2": 30000,
        "eleven_turbo_v2": 30000, "eleven_multilingual_v2": 10000,
    ]

    public init(speechAudio: [UInt8] = placeholderAudio, soundEffectAudio: [UInt8] = placeholderAudio, musicAudio: [UInt8] = placeholderAudio) throws {
        let state = LoopbackState(State(speechAudio: speechAudio, soundEffectAudio: soundEffectAudio, musicAudio: musicAudio))
        self.state = state
        server = try LoopbackServer { request, connection in
            FakeElevenLabs.handle(request, connection, state: state)
        }
    }

    deinit { server.stop() }

    /// The host, as `base_url` takes it (the adapter appends `/v1`).
    public var baseURL: String { server.baseURL }

    public func script(_ route: String, _ replies: Reply...) {
        state.withLock { $0.scripted[route, default: []] += replies }
    }

    /// The requests to a route, by its template (`POST /v1/text-to-speech/{voice_id}`) or its path.
    public func requests(_ route: String) -> [LoopbackRequest] {
        state.value.requests.filter { Self.route($0) == route || "\($0.method) \($0.path)" == route }
    }

    public func count(_ route: String) -> Int { requests(route).count }

    /// `{"detail": {...}}` as ElevenLabs sends it: the legacy `status` and the newer `code`.
    public static func errorBody(_ message: String, status: String, code: String? = nil, type: String? = nil, extra: [String: JSONValue] = [:]) -> JSONValue {
        var detail: [String: JSONValue] = ["status": .string(status), "message": .string(message)]
        if let code { detail["code"] = .string(code) }
        if let type { detail["type"] = .string(type) }
        detail["request_id"] = .string(String(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()))
        return ["detail": .object(detail.merging(extra) { $1 })]
    }

    /// FastAPI's 422: `{"detail": [{"loc": [...], "msg", "type"}]}`.
    public static func validationBody(_ location: [String], _ message: String, type: String) -> JSONValue {
        ["detail": [["loc": .array(location.map(JSONValue.string)), "msg": .string(message), "type": .string(type)]]]
    }

    // MARK: Serving

    static let createRoutes: Set<String> = [
        "POST /v1/text-to-speech/{voice_id}", "POST /v1/text-to-speech/{voice_id}/with-timestamps", "POST /v1/sound-generation", "POST /v1/music",
    ]

    /// The route's template: the voice id in a text-to-speech path is a parameter.
    static func route(_ request: LoopbackRequest) -> String {
        let parts = request.path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)  // ["", "v1", "text-to-speech", id, …]
        if parts.count >= 4, parts[1] == "v1", parts[2] == "text-to-speech" {
            return "\(request.method) /v1/text-to-speech/{voice_id}" + (parts.count > 4 ? "/" + parts[4...].joined(separator: "/") : "")
        }
        return "\(request.method) \(request.path)"
    }

    private static func handle(_ request: LoopbackRequest, _ connection: LoopbackConnection, state: LoopbackState<State>) {
        let route = route(request)
        let requestID = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let isCreate = createRoutes.contains(route)
        let authorized = request.header("xi-api-key") == key
        let (scripted, hold, delay): (Reply?, Bool, Duration) = state.withLock {
            $0.requests.append(request)
            guard authorized else { return (nil, false, .zero) }
            if isCreate { $0.createCount += 1 }
            let scripted = $0.scripted[route]?.isEmpty == false ? $0.scripted[route]!.removeFirst() : nil
            let hold = isCreate && $0.holdCreates && scripted == nil
            if hold { $0.heldCount += 1 }
            return (scripted, hold, isCreate ? $0.answerDelay : .zero)
        }
        let base: [(String, String)] = [("request-id", requestID), ("current-concurrent-requests", "1"), ("maximum-concurrent-requests", "5")]
        guard authorized else {
            let message = request.header("xi-api-key") == nil ? "Missing xi-api-key header." : "Invalid API key"
            FakeReply.json(status: 401, errorBody(message, status: request.header("xi-api-key") == nil ? "needs_authorization" : "invalid_api_key", code: "invalid_api_key", type: "authentication_error"))
                .send(on: connection, headers: base)
            return
        }
        if let scripted {
            scripted.send(on: connection, headers: base)
            return
        }
        if hold {
            // Accepted and charged, as far as the client can tell, but the answer never comes:
            // the test kills the client meanwhile.
            _ = connection.waitUntilClosed(timeout: .seconds(3600))
            return
        }
        if delay > .zero { Thread.sleep(forTimeInterval: Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18) }
        answer(request, route: route, state: state).send(on: connection, headers: base)
    }

    private static func answer(_ request: LoopbackRequest, route: String, state: LoopbackState<State>) -> Reply {
        guard createRoutes.contains(route) else {
            return .json(status: 404, ["detail": "Not Found"])
        }
        let format = query(request, "output_format") ?? "mp3_44100_128"
        guard outputFormats.contains(format) else {
            return .json(status: 422, validationBody(["query", "output_format"], "value is not a valid enumeration member", type: "type_error.enum"))
        }
        guard request.header("content-type")?.hasPrefix("application/json") == true, let body = try? JSONValue(parsing: request.body), body.objectValue != nil else {
            return .json(status: 422, validationBody(["body"], "field required", type: "value_error.missing"))
        }
        switch route {
        case "POST /v1/sound-generation": return soundEffect(body, format: format, state: state)
        case "POST /v1/music": return music(body, format: format, state: state)
        default: return speech(request, body, format: format, timestamps: route.hasSuffix("/with-timestamps"), state: state)
        }
    }

    private static func speech(_ request: LoopbackRequest, _ body: JSONValue, format: String, timestamps: Bool, state: LoopbackState<State>) -> Reply {
        let voice = request.path.split(separator: "/").map(String.init)[2]
        guard let text = body["text"]?.stringValue else {
            return .json(status: 422, validationBody(["body", "text"], "field required", type: "value_error.missing"))
        }
        let model = body["model_id"]?.stringValue ?? "eleven_multilingual_v2"
        if let known = state.value.voices, !known.contains(voice) {
            return .json(status: 404, errorBody("A voice with the voice_id \(voice) was not found.", status: "voice_not_found", code: "voice_not_found", type: "not_found"))
        }
        if let limit = characterLimits[model], text.count > limit {
            return .json(status: 400, errorBody("This request's text has \(text.count) characters and exceeds the character limit of \(limit) characters.", status: "max_character_limit_exceeded", code: "max_character_limit_exceeded", type: "validation_error"))
        }
        if let seed = body["seed"], seed != .null {
            guard let value = seed.intValue, (0...4_294_967_295).contains(value) else {
                return .json(status: 422, validationBody(["body", "seed"], "ensure this value is less than or equal to 4294967295", type: "value_error.number.not_le"))
            }
        }
        let audio = state.value.speechAudio
        let cost = [("character-cost", String(text.count)), ("history-item-id", "hist_\(UUID().uuidString.prefix(8))")]
        guard timestamps else {
            return .raw(status: 200, contentType: contentType(format), audio, headers: cost)
        }
        let characters = text.map { JSONValue.string(String($0)) }
        let starts = (0..<characters.count).map { JSONValue.double(Double($0) * 0.08) }
        let ends = (0..<characters.count).map { JSONValue.double(Double($0 + 1) * 0.08) }
        let alignment: JSONValue = ["characters": .array(characters), "character_start_times_seconds": .array(starts), "character_end_times_seconds": .array(ends)]
        return .json(status: 200, ["audio_base64": .string(Data(audio).base64EncodedString()), "alignment": alignment, "normalized_alignment": alignment], headers: cost)
    }

    private static func soundEffect(_ body: JSONValue, format: String, state: LoopbackState<State>) -> Reply {
        guard body["text"]?.stringValue != nil else {
            return .json(status: 422, validationBody(["body", "text"], "field required", type: "value_error.missing"))
        }
        if let duration = body["duration_seconds"], duration != .null {
            guard let seconds = duration.doubleValue, seconds >= 0.5 else {
                return .json(status: 422, validationBody(["body", "duration_seconds"], "ensure this value is greater than or equal to 0.5", type: "value_error.number.not_ge"))
            }
            guard seconds <= 30 else {
                return .json(status: 422, validationBody(["body", "duration_seconds"], "ensure this value is less than or equal to 30", type: "value_error.number.not_le"))
            }
        }
        if let influence = body["prompt_influence"], influence != .null {
            guard let value = influence.doubleValue, (0...1).contains(value) else {
                return .json(status: 422, validationBody(["body", "prompt_influence"], "ensure this value is between 0 and 1", type: "value_error.number"))
            }
        }
        let seconds = body["duration_seconds"]?.doubleValue
        let cost = seconds.map { Int(($0 * 40).rounded()) } ?? 200
        return .raw(status: 200, contentType: contentType(format), state.value.soundEffectAudio, headers: [("character-cost", String(cost))])
    }

    private static func music(_ body: JSONValue, format: String, state: LoopbackState<State>) -> Reply {
        let prompt = body["prompt"]?.stringValue
        let plan = body["composition_plan"]
        guard (prompt != nil) != (plan != nil && plan != .null) else {
            return .json(status: 422, validationBody(["body", "prompt"], "exactly one of prompt and composition_plan is required", type: "value_error"))
        }
        if let prompt, prompt.count > 2000 {
            return .json(status: 422, validationBody(["body", "prompt"], "ensure this value has at most 2000 characters", type: "value_error.any_str.max_length"))
        }
        if let length = body["music_length_ms"], length != .null {
            guard let ms = length.intValue, (3000...600_000).contains(ms) else {
                return .json(status: 422, validationBody(["body", "music_length_ms"], "ensure this value is between 3000 and 600000", type: "value_error.number"))
            }
        }
        let song = state.withLock {
            $0.nextID += 1
            return "song_\($0.nextID)"
        }
        return .raw(status: 200, contentType: contentType(format), state.value.musicAudio, headers: [("song-id", song)])
    }

    private static func query(_ request: LoopbackRequest, _ name: String) -> String? {
        guard let mark = request.target.firstIndex(of: "?") else { return nil }
        for pair in request.target[request.target.index(after: mark)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.first == name { return parts.count > 1 ? (parts[1].removingPercentEncoding ?? parts[1]) : "" }
        }
        return nil
    }

    static func contentType(_ format: String) -> String {
        switch format.prefix(while: { $0 != "_" }) {
        case "mp3": "audio/mpeg"
        case "wav": "audio/wav"
        case "opus": "audio/opus"
        case "pcm": "audio/pcm"
        default: "audio/basic"
        }
    }
}
