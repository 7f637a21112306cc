import Foundation
import ReelCore
import ReelHTTP

extension GoogleProvider {
    /// The aspect ratios the Gemini image models take, as width / height.
    static let imageAspectRatios: [(name: String, ratio: Double)] = [
        ("1:1", 1), ("2:3", 2.0 / 3), ("3:2", 1.5), ("3:4", 0.75), ("4:3", 4.0 / 3), ("9:16", 9.0 / 16), ("16:9", 16.0 / 9), ("21:9", 21.0 / 9),
    ]

    /// An image through a Gemini image model on `generateContent`: the prompt, then any
    /// reference images as inline data, so the new image keeps their look. The image comes
    /// back base64 in an `inlineData` part and is written into the work directory.
    func image(_ request: GenerationRequest, context: GenerationContext) async throws -> GenerationResult {
        let model = request.model ?? settings.imageModel
        var prompt = request.prompt
        if let negative = request.negativePrompt, !negative.isEmpty { prompt += "\n\nAvoid: \(negative)" }
        var parts: [JSONValue] = [["text": .string(prompt)]]
        for reference in request.referenceImages {
            let image = try Self.inlineImage(reference, role: "reference image")
            parts.append(["inlineData": ["mimeType": .string(image.mimeType), "data": .string(image.data)]])
        }
        var config: [String: JSONValue] = ["responseModalities": ["TEXT", "IMAGE"]]
        var imageConfig: [String: JSONValue] = [:]
        if let aspect = Self.aspectRatio(width: request.width, height: request.height) { imageConfig["aspectRatio"] = .string(aspect) }
        if let size = Self.imageSize(model: model, width: request.width, height: request.height) { imageConfig["imageSize"] = .string(size) }
        if !imageConfig.isEmpty { config["imageConfig"] = .object(imageConfig) }
        if let seed = Self.seed(request.seed) { config["seed"] = seed }
        let body: JSONValue = ["contents": [["role": "user", "parts": .array(parts)]], "generationConfig": .object(config)]
        let http = HTTPRequest.json(
            url: try modelURL(model, "generateContent"), body: body, headers: headers,
            options: options(total: settings.imageTimeout, maxBodyBytes: settings.maxImageResponseBytes))
        let (json, response) = try await exchange(http, creates: true, context: context)
        let answer = try GoogleContentAnswer(json, what: "the image", requestID: response.requestID)
        let id = response.requestID ?? answer.responseID
        // Gemini 3 models may send interim images first: the last one is the answer.
        guard let inline = answer.inline.last(where: { $0.mimeType.hasPrefix("image/") }) else {
            let reason = answer.finishReason ?? "no finish reason"
            // A model that declines answers in words (finishReason STOP, text only): say them.
            let said = answer.finishMessage ?? answer.text.map { String($0.prefix(500)) }
            throw JobError.permanent(
                "Google made no image (\(reason))" + (said.map { ": \($0)" } ?? ""),
                detail: ["provider": "google", "reason": .string(reason), "request_id": id.map(JSONValue.string) ?? .null])
        }
        guard let bytes = Data(base64Encoded: inline.base64, options: .ignoreUnknownCharacters), !bytes.isEmpty else {
            throw GoogleFailure.malformed("the image part is not base64", requestID: id)
        }
        let type = inline.mimeType
        let suffix = type == "image/jpeg" ? "jpg" : type == "image/webp" ? "webp" : "png"
        let file = context.workDirectory.appendingPathComponent("google-image-\(ProviderNaming.fileName(request.externalID)).\(suffix)")
        try Self.write(bytes, to: file, what: "image")
        var notes: [String] = []
        if let tokens = answer.totalTokens { notes.append("tokens: \(Int(tokens))") }
        return GenerationResult(
            files: [GeneratedFile(url: file, mimeType: type)], usage: Usage(unit: "images", amount: 1), model: answer.model ?? model, notes: notes)
    }

    /// The accepted aspect ratio nearest (in log terms) to the requested width and height.
    static func aspectRatio(width: Int?, height: Int?) -> String? {
        guard let width, let height, width > 0, height > 0 else { return nil }
        let wanted = log(Double(width) / Double(height))
        return imageAspectRatios.min { abs(log($0.ratio) - wanted) < abs(log($1.ratio) - wanted) }?.name
    }

    /// `imageSize` is for the Gemini 3 image models only ("1K" is their default); the 2.5
    /// model makes about a megapixel and takes no size.
    static func imageSize(model: String, width: Int?, height: Int?) -> String? {
        guard model.contains("gemini-3"), let width, let height else { return nil }
        let longest = max(width, height)
        if longest > 2048 { return "4K" }
        if longest > 1024 { return "2K" }
        return nil
    }
}
