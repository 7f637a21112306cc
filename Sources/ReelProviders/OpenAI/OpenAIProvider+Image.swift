import Foundation
import ReelCore
import ReelHTTP

extension OpenAIProvider {
    /// An image through GPT Image: `generations` from the prompt alone, `edits` (multipart) when
    /// reference images are given, so the new image keeps their look.
    func image(_ request: GenerationRequest, context: GenerationContext) async throws -> GenerationResult {
        let model = request.model ?? settings.imageModel
        let size = OpenAIImageSize.size(model: model, width: request.width, height: request.height)
        let http: HTTPRequest
        if request.referenceImages.isEmpty {
            var body: [String: JSONValue] = ["model": .string(model), "prompt": .string(request.prompt), "n": 1, "output_format": "png"]
            if let size { body["size"] = .string(size) }
            http = .json(url: url("/images/generations"), body: .object(body), headers: headers, options: options(total: settings.imageTimeout))
        } else {
            var form = MultipartForm()
            form.addField("model", model)
            form.addField("prompt", request.prompt)
            form.addField("n", "1")
            if let size { form.addField("size", size) }
            form.addField("output_format", "png")
            for reference in request.referenceImages {
                let data: [UInt8]
                do { data = Array(try Data(contentsOf: reference)) } catch {
                    throw JobError.permanent("cannot read the reference image \(reference.lastPathComponent): \(error.localizedDescription)")
                }
                // Several images go as repeated `image[]` parts, as OpenAI's own clients send them.
                form.addFile("image[]", filename: reference.lastPathComponent, contentType: ProviderNaming.imageType(named: reference), data: data)
            }
            http = .multipart(url: url("/images/edits"), form: form, headers: headers, options: options(total: settings.imageTimeout))
        }
        let (json, response) = try await exchange(http, context: context)
        guard let encoded = json["data"]?.arrayValue?.first?["b64_json"]?.stringValue else {
            throw OpenAIFailure.malformed("no data[0].b64_json", requestID: response.requestID)
        }
        guard let bytes = Data(base64Encoded: encoded) else {
            throw OpenAIFailure.malformed("data[0].b64_json is not base64", requestID: response.requestID)
        }
        let format = json["output_format"]?.stringValue ?? "png"
        let file = context.workDirectory.appendingPathComponent("openai-image-\(ProviderNaming.fileName(request.externalID)).\(format == "jpeg" ? "jpg" : format)")
        do {
            try FileManager.default.createDirectory(at: context.workDirectory, withIntermediateDirectories: true)
            try bytes.write(to: file, options: .atomic)
        } catch {
            throw JobError("cannot write the image: \(error.localizedDescription)", class: .transient)
        }
        var notes: [String] = []
        if let usage = json["usage"], let total = usage["total_tokens"]?.intValue {
            let input = usage["input_tokens"]?.intValue.map(String.init) ?? "?"
            let output = usage["output_tokens"]?.intValue.map(String.init) ?? "?"
            notes.append("tokens: \(total) (input \(input), output \(output))")
        }
        if size == "auto", request.width != nil || request.height != nil { notes.append("size chosen by OpenAI") }
        return GenerationResult(
            files: [GeneratedFile(url: file, mimeType: "image/\(format)")], usage: Usage(unit: "images", amount: 1), model: model, notes: notes)
    }
}
