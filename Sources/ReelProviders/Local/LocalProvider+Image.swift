import Foundation
import ReelCore
import ReelRender

extension LocalProvider {
    /// Weight of a reference image blended into the art: faint, but measurably there.
    static let referenceWeight = 0.25

    func makeImage(_ request: GenerationRequest, in directory: URL) throws -> GenerationResult {
        let width = max(16, request.width ?? configuration.defaultWidth)
        let height = max(16, request.height ?? configuration.defaultHeight)
        var image = PromptArt.make(prompt: request.prompt, seed: Self.seed(request), width: width, height: height)
        var notes = ["abstract art drawn from the prompt's hash, not an image model"]
        if let reference = request.referenceImages.first {
            let picture = try ImageIO.read(reference, width: width, height: height)
            image = PromptArt.blend(picture, over: image, weight: Self.referenceWeight)
            notes.append("reference image blended in at \(Int(Self.referenceWeight * 100))%")
        }
        let output = directory.appendingPathComponent("image-\(Self.fileStem(for: request.externalID)).png")
        try ImageIO.writePNG(image, to: output)
        return GenerationResult(
            files: [GeneratedFile(url: output, mimeType: "image/png")], usage: Usage(unit: "images", amount: 1),
            model: request.model ?? "reeld-local-art", notes: notes)
    }
}
