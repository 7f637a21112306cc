import ReelCore

extension KlingProvider {
    static let imageAspectRatios = ["16:9", "9:16", "1:1", "4:3", "3:4", "3:2", "2:3", "21:9"]

    /// The create body for an image: one image (`n` 1) at the aspect ratio nearest the requested
    /// size; the first reference image, if any, goes as `image` (Kling then takes no negative prompt).
    func imageBody(_ request: GenerationRequest) throws -> JSONValue {
        var body: [String: JSONValue] = [
            "model_name": .string(request.model ?? settings.imageModel), "prompt": .string(request.prompt), "n": 1,
            "external_task_id": .string(request.externalID),
        ]
        if let ratio = Self.nearestRatio(width: request.width, height: request.height, among: Self.imageAspectRatios) {
            body["aspect_ratio"] = .string(ratio)
        }
        if let reference = request.referenceImages.first {
            body["image"] = .string(try image(reference, what: "reference image"))
        } else if let negative = request.negativePrompt, !negative.isEmpty {
            body["negative_prompt"] = .string(negative)
        }
        return .object(body)
    }
}
