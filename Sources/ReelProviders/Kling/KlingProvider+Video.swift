import Foundation
import ReelCore

extension KlingProvider {
    /// The create body for a video, on the endpoint `KlingEndpoint.of` chose: text2video from the
    /// prompt, image2video with a start (`image`) and/or end (`image_tail`) frame, omni-video
    /// (Kling O1) with the frames in `image_list`.
    func videoBody(_ request: GenerationRequest) throws -> JSONValue {
        let model = request.model ?? settings.videoModel
        let endpoint = self.endpoint(request)
        var body: [String: JSONValue] = [
            "model_name": .string(model), "mode": .string(settings.mode),
            "duration": .string(Self.duration(request.durationSeconds, model: model, endpoint: endpoint)),
            "external_task_id": .string(request.externalID),
        ]
        if !request.prompt.isEmpty { body["prompt"] = .string(request.prompt) }
        if let negative = request.negativePrompt, !negative.isEmpty, endpoint != .omniVideo { body["negative_prompt"] = .string(negative) }
        // "kling-v2.x models do not support this parameter": only the v1 family gets it.
        if let cfg = settings.cfgScale, model.hasPrefix("kling-v1") { body["cfg_scale"] = .double(min(1, max(0, cfg))) }
        switch endpoint {
        case .text2video:
            body["aspect_ratio"] = .string(Self.videoAspectRatio(width: request.width, height: request.height))
        case .image2video:
            // No aspect_ratio here: the output follows the start image.
            if let start = request.startFrame { body["image"] = .string(try image(start, what: "start frame")) }
            if let end = request.endFrame { body["image_tail"] = .string(try image(end, what: "end frame")) }
        case .omniVideo:
            var images: [JSONValue] = []
            if let start = request.startFrame { images.append(["image_url": .string(try image(start, what: "start frame")), "type": "first_frame"]) }
            if let end = request.endFrame { images.append(["image_url": .string(try image(end, what: "end frame")), "type": "end_frame"]) }
            if !images.isEmpty { body["image_list"] = .array(images) }
            // Required unless a first frame sets the shape.
            if request.startFrame == nil { body["aspect_ratio"] = .string(Self.videoAspectRatio(width: request.width, height: request.height)) }
        case .imageGeneration:
            break
        }
        return .object(body)
    }

    /// The length Kling takes nearest to the one asked for, as the string it wants: "5" or "10"
    /// for most models, 3–10 s for Kling O1, 3–15 s for the v3 family.
    static func duration(_ seconds: Double?, model: String, endpoint: KlingEndpoint) -> String {
        let range: ClosedRange<Int>?
        if model == "kling-video-o1" {
            range = 3...10
        } else if model.hasPrefix("kling-v3") {
            range = 3...15
        } else {
            range = nil
        }
        guard let seconds, seconds.isFinite, seconds > 0 else { return "5" }
        if let range { return String(min(range.upperBound, max(range.lowerBound, Int(seconds.rounded())))) }
        return seconds > 7.5 ? "10" : "5"
    }

    /// 16:9, 9:16 or 1:1, whichever is nearest the requested shape; 16:9 when none is given.
    static func videoAspectRatio(width: Int?, height: Int?) -> String {
        nearestRatio(width: width, height: height, among: ["16:9", "9:16", "1:1"]) ?? "16:9"
    }

    static func nearestRatio(width: Int?, height: Int?, among ratios: [String]) -> String? {
        guard let width, let height, width > 0, height > 0 else { return nil }
        let wanted = log(Double(width) / Double(height))
        return ratios.min { abs(log(ratio($0)) - wanted) < abs(log(ratio($1)) - wanted) }
    }

    private static func ratio(_ text: String) -> Double {
        let parts = text.split(separator: ":").compactMap { Double($0) }
        return parts.count == 2 && parts[1] > 0 ? parts[0] / parts[1] : 1
    }

    /// An input image as Kling takes it: an http(s) URL as it is, a local file as raw base64
    /// (no `data:` prefix, which Kling refuses), at most `maxInputImageBytes`.
    func image(_ url: URL, what: String) throws -> String {
        if url.scheme == "https" || url.scheme == "http" { return url.absoluteString }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw JobError.permanent("cannot read the \(what) \(url.lastPathComponent): \(error.localizedDescription)")
        }
        guard data.count <= settings.maxInputImageBytes else {
            throw JobError.permanent("the \(what) \(url.lastPathComponent) has \(data.count) bytes; Kling takes at most \(settings.maxInputImageBytes)")
        }
        return data.base64EncodedString()
    }
}
