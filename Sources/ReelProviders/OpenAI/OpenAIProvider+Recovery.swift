import Foundation
import ReelCore
import ReelHTTP

extension OpenAIProvider {
    /// Text and images answer within their call, so an answer lost with a crashed node is lost
    /// for good: calling again costs what a retry would. Sora takes no client reference, but
    /// lists an account's videos with what each was asked for: a video whose create may have
    /// been taken is looked for there.
    public func recoveryRule(for kind: GenerationKind) -> RecoveryRule {
        kind == .video ? .lookUp : .resubmit
    }

    /// How far back, before the earlier call went out, a listed video may have been created and
    /// still be that call's: OpenAI's clock against the database's.
    static let lookupClockSkew: TimeInterval = 120

    /// Pages of 100 videos the lookup reads at most before it gives up as unable to tell.
    static let lookupMaxPages = 10

    /// The video an earlier create call for `request` made, found in `GET /videos` (newest
    /// first) among those created since that call went out: one listed with the same model,
    /// prompt, length and size. None: OpenAI did not take the call, and it may be made again.
    /// Several, or more videos since then than the lookup reads: ``TaskNotIdentified``.
    public func lookup(externalID: String, request: GenerationRequest, context: GenerationContext) async throws -> ProviderTask? {
        guard request.kind == .video else { return nil }
        guard let sentAt = request.earlierCallSentAt else {
            throw TaskNotIdentified("when its earlier call went out is not recorded")
        }
        let ask = videoAsk(request)
        let since = sentAt.timeIntervalSince1970 - Self.lookupClockSkew
        var matches: [String] = []
        var after: String?
        for _ in 0..<Self.lookupMaxPages {
            let page = try await listVideos(after: after, context: context)
            let videos = page["data"]?.arrayValue ?? []
            for video in videos where Double(video["created_at"]?.intValue ?? 0) >= since && ask.matches(video) {
                if let id = video["id"]?.stringValue { matches.append(id) }
            }
            let oldest = videos.last.flatMap { $0["created_at"]?.intValue }.map(Double.init) ?? 0
            guard page["has_more"] == .bool(true), oldest >= since, let last = videos.last?["id"]?.stringValue else {
                return try found(matches, externalID: externalID, context: context)
            }
            after = last
        }
        throw TaskNotIdentified("OpenAI lists more than \(Self.lookupMaxPages * 100) videos made since its earlier call")
    }

    private func found(_ matches: [String], externalID: String, context: GenerationContext) throws -> ProviderTask? {
        guard matches.count <= 1 else {
            throw TaskNotIdentified("OpenAI lists \(matches.count) videos made since then with its prompt, model, length and size (\(matches.joined(separator: ", ")))")
        }
        guard let id = matches.first else { return nil }
        context.logger.info("Found the video an earlier call made in OpenAI's list", metadata: ["openai.video": "\(id)", "generation": "\(externalID)"])
        return ProviderTask(provider: name, id: id)
    }

    private func listVideos(after: String?, context: GenerationContext) async throws -> JSONValue {
        var query = "limit=100&order=desc"
        if let after { query += "&after=\(ProviderNaming.pathSegment(after, fallback: "invalid-video-id"))" }
        let http = HTTPRequest(url: url("/videos?\(query)"), headers: headers, options: options(total: settings.videoRequestTimeout))
        return try await exchange(http, context: context).0
    }
}

/// What a Sora create call asks for, as the video object echoes it back (`model`, `prompt`,
/// `seconds`, `size`): the create sends these, and a lookup after a crash matches on them.
struct OpenAIVideoAsk: Sendable, Equatable {
    var model: String
    var prompt: String
    /// Nil when the request names no length or shape: OpenAI's default, which is not compared.
    var seconds: String?
    var size: String?

    func matches(_ video: JSONValue) -> Bool {
        video["model"]?.stringValue == model && video["prompt"]?.stringValue == prompt
            && (seconds == nil || video["seconds"]?.stringValue == seconds)
            && (size == nil || video["size"]?.stringValue == size)
    }
}
