/// The Kling task endpoints reeld creates tasks on; a task is polled and looked up on the
/// endpoint that made it.
enum KlingEndpoint: String, Sendable, Hashable {
    case text2video
    case image2video
    /// Kling O1 (`kling-video-o1`) and `kling-v3-omni`.
    case omniVideo = "omni-video"
    case imageGeneration = "generations"

    static let omniModels: Set<String> = ["kling-video-o1", "kling-v3-omni"]

    var path: String {
        switch self {
        case .imageGeneration: "/v1/images/generations"
        default: "/v1/videos/\(rawValue)"
        }
    }

    /// Where a request goes. A function of the request and the default model alone, so that a
    /// later attempt (a poll after a restart, a lookup) finds the same endpoint again.
    static func of(_ request: GenerationRequest, defaultVideoModel: String) -> KlingEndpoint {
        if request.kind == .image { return .imageGeneration }
        if omniModels.contains(request.model ?? defaultVideoModel) { return .omniVideo }
        return request.startFrame != nil || request.endFrame != nil ? .image2video : .text2video
    }
}
