import ReelCore

/// Which provider makes a job, and which one to try next when it is down.
///
/// A pure value: the configuration's `[routing]` table and the enabled providers go in, an
/// ordered list of candidates comes out. The rules:
/// - a job's `args.provider` wins, if that provider is enabled, and gets no fallback (the job
///   asked for it);
/// - a video that needs an end frame goes only to providers whose models take one (Kling's
///   `image_tail`, Veo's last frame); one that needs native audio only to Veo (Google);
/// - otherwise the kind's order, enabled providers only; `local` only when no other provider
///   in the order is enabled, so an offline node (and `bash .ci/demo`) keeps working while a
///   node with real providers never hands a user a placeholder;
/// - the next candidate is tried only when the one before has certainly not accepted the request
///   (``HTTPError/certainlyNotAccepted`` in ReelHTTP): anything else might have been paid for.
public struct Router: Sendable, Hashable {
    /// Provider order per kind, best first.
    public var routes: [JobKind: [String]]
    /// The providers this node runs.
    public var enabled: Set<String>

    public init(routes: [JobKind: [String]] = Router.defaultRoutes, enabled: Set<String>) {
        self.routes = routes
        self.enabled = enabled
    }

    /// The product's order per kind: the usual best first, the rest as fallbacks.
    public static let defaultRoutes: [JobKind: [String]] = [
        .storyboard: ["openai", "google", "local"],
        .image: ["openai", "google", "local"],
        .video: ["kling", "google", "openai", "local"],
        .speech: ["elevenlabs", "local"],
        .soundEffect: ["elevenlabs", "local"],
        .music: ["elevenlabs", "local"],
    ]

    /// Providers whose video models take a last frame.
    public static let endFrameProviders: Set<String> = ["kling", "google", "local"]
    /// Providers whose video models make their own sound (Veo 3.1).
    public static let nativeAudioProviders: Set<String> = ["google", "local"]

    /// The providers to try for `request`, in order; the first is the one to call.
    public func candidates(for request: RouteRequest) throws(RoutingError) -> [String] {
        if let named = request.provider {
            guard enabled.contains(named) else { throw .providerNotEnabled(named, enabled: enabled.sorted()) }
            return [named]
        }
        var order = (routes[request.kind] ?? []).filter(enabled.contains)
        var need: String?
        if request.needsEndFrame {
            order = order.filter(Self.endFrameProviders.contains)
            need = "an end frame"
        }
        if request.needsNativeAudio {
            order = order.filter(Self.nativeAudioProviders.contains)
            need = need.map { "\($0) and native audio" } ?? "native audio"
        }
        let remote = order.filter { $0 != "local" }
        let chosen = remote.isEmpty ? order : remote
        guard !chosen.isEmpty else { throw .noProvider(request.kind, need: need) }
        return chosen
    }

    /// The provider to try after `failed` did not take the request, or nil when none is left
    /// or when the request may have been accepted (then retrying elsewhere could pay twice).
    public func fallback(after failed: String, for request: RouteRequest, certainlyNotAccepted: Bool) -> String? {
        guard certainlyNotAccepted, let list = try? candidates(for: request),
              let index = list.firstIndex(of: failed), index + 1 < list.count
        else { return nil }
        return list[index + 1]
    }
}
