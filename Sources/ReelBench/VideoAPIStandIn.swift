import Foundation
import ReelLoopbackHTTP
import ReelRender

/// The part of OpenAI's video API that the adapter uses, served by `reeld bench providers
/// --serve` for the node figure: `POST /v1/videos` makes a queued video, `GET /v1/videos/{id}`
/// answers `in_progress` (with `openai-poll-after-ms`) until `expected` videos have been created
/// and then to `pendingPolls` more polls, `completed` after: however fast the node creates them,
/// all of them are pending at once and polled for a while.
/// `GET /v1/videos/{id}/content` is a small real MP4.
/// `GET /v1/bench-stats` tells the benchmark what was created, polled and is still pending.
///
/// It lives in the server's process, so the videos it keeps are not counted in the node's RSS.
struct VideoAPIStandIn: Sendable {
    struct State: Sendable {
        /// Polls per video since all were created; a video is pending until it has been answered `completed`.
        var polls: [String: Int] = [:]
        var created = 0
        var completed = 0
        var pollsServed = 0
    }

    /// `in_progress` answers, once all videos exist, before a video is `completed`.
    let pendingPolls: Int
    /// Videos the benchmark will create; none completes before they all exist.
    let expected: Int
    /// What `openai-poll-after-ms` suggests: OpenAI's own hint, so the node polls at this pace when it can.
    let pollAfterMilliseconds = 300
    let state = LoopbackState(State())
    /// What every download returns: a one-second H.264 clip, decodable because the node probes
    /// what it stores.
    let content: [UInt8]

    init(pendingPolls: Int, expected: Int) throws {
        self.pendingPolls = pendingPolls
        self.expected = expected
        content = try Self.clip()
    }

    private static func clip() throws -> [UInt8] {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("reeld-bench-clip-\(getpid()).mp4")
        defer { try? FileManager.default.removeItem(at: file) }
        _ = try ClipSynthesizer.makeClip(
            from: RGBImage(width: 320, height: 180, red: 30, green: 60, blue: 200),
            to: RGBImage(width: 320, height: 180, red: 220, green: 180, blue: 20),
            options: .init(width: 320, height: 180, framesPerSecond: 24, seconds: 1), writingTo: file)
        return Array(try Data(contentsOf: file))
    }

    /// Answers the request when it is one of the stand-in's; false otherwise.
    func handle(_ request: LoopbackRequest, _ connection: LoopbackConnection) -> Bool {
        let parts = request.path.split(separator: "/").map(String.init)  // ["v1", "videos", id, "content"?]
        guard parts.first == "v1", parts.count >= 2 else { return false }
        switch (request.method, parts.count, parts[1]) {
        case ("POST", 2, "videos"):
            create(connection)
        case ("GET", 3, "videos"):
            poll(parts[2], connection)
        case ("GET", 4, "videos") where parts[3] == "content":
            connection.respond(status: 200, headers: [("Content-Type", "video/mp4")], body: content)
        case ("GET", 2, "bench-stats"):
            let now = state.value
            connection.respond(status: 200, headers: [("Content-Type", "application/json")],
                               text: #"{"created":\#(now.created),"completed":\#(now.completed),"polls":\#(now.pollsServed)}"#)
        default:
            return false
        }
        return true
    }

    private func create(_ connection: LoopbackConnection) {
        let id = state.withLock { state in
            state.created += 1
            let id = "video_bench_\(state.created)"
            state.polls[id] = 0
            return id
        }
        respond(connection, id: id, status: "queued")
    }

    private func poll(_ id: String, _ connection: LoopbackConnection) {
        let status: String? = state.withLock { state in
            guard let polls = state.polls[id] else { return nil }
            state.pollsServed += 1
            guard state.created >= expected else { return "in_progress" }
            guard polls >= pendingPolls else {
                state.polls[id] = polls + 1
                return "in_progress"
            }
            // Counted once: the polls stop growing when a video completes.
            if polls == pendingPolls { state.completed += 1 }
            state.polls[id] = pendingPolls + 1
            return "completed"
        }
        guard let status else { return connection.respond(status: 404, text: #"{"error":{"message":"no such video"}}"#) }
        respond(connection, id: id, status: status)
    }

    private func respond(_ connection: LoopbackConnection, id: String, status: String) {
        let body = #"{"id":"\#(id)","object":"video","model":"sora-2","status":"\#(status)","progress":\#(status == "completed" ? 100 : 0),"seconds":"4","size":"720x1280"}"#
        var headers = [("Content-Type", "application/json")]
        if status != "completed" { headers.append(("openai-poll-after-ms", String(pollAfterMilliseconds))) }
        connection.respond(status: 200, headers: headers, text: body)
    }
}
