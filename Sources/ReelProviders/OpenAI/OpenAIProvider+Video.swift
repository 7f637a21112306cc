import Foundation
import ReelCore
import ReelHTTP

extension OpenAIProvider {
    /// The lengths Sora takes, as strings on the wire.
    static let videoSeconds = [4, 8, 12]

    /// Starts a Sora video (multipart, as OpenAI's clients send it) and answers pending with
    /// the video's id, at the pace OpenAI suggests.
    func createVideo(_ request: GenerationRequest, context: GenerationContext) async throws -> GenerationOutcome {
        let ask = videoAsk(request)
        var form = MultipartForm()
        form.addField("model", ask.model)
        form.addField("prompt", ask.prompt)
        if let seconds = ask.seconds { form.addField("seconds", seconds) }
        if let size = ask.size { form.addField("size", size) }
        if let start = request.startFrame {
            let data: [UInt8]
            do { data = Array(try Data(contentsOf: start)) } catch {
                throw JobError.permanent("cannot read the start frame \(start.lastPathComponent): \(error.localizedDescription)")
            }
            form.addFile("input_reference", filename: start.lastPathComponent, contentType: ProviderNaming.imageType(named: start), data: data)
        }
        let http = HTTPRequest.multipart(url: url("/videos"), form: form, headers: headers, options: options(total: settings.videoRequestTimeout))
        let (json, response) = try await exchange(http, context: context)
        return try await videoState(json, response: response, request: request, context: context)
    }

    /// The model, prompt, length and shape a create for `request` sends.
    func videoAsk(_ request: GenerationRequest) -> OpenAIVideoAsk {
        let seconds = request.durationSeconds.map { wanted in
            String(Self.videoSeconds.min { abs(Double($0) - wanted) < abs(Double($1) - wanted) }!)
        }
        let size = request.width.flatMap { width in request.height.map { height in width > height ? "1280x720" : "720x1280" } }
        return OpenAIVideoAsk(model: request.model ?? settings.videoModel, prompt: request.prompt, seconds: seconds, size: size)
    }

    func pollVideo(id: String, request: GenerationRequest, context: GenerationContext) async throws -> GenerationOutcome {
        let http = HTTPRequest(url: url("/videos/\(ProviderNaming.pathSegment(id, fallback: "invalid-video-id"))"), headers: headers, options: options(total: settings.videoRequestTimeout))
        let (json, response) = try await exchange(http, context: context)
        return try await videoState(json, response: response, request: request, context: context)
    }

    /// Deletes a video at OpenAI (`DELETE /videos/{id}`), for a job cancelled while its video
    /// is made. The API has no separate cancel; a video already gone counts as deleted.
    public func deleteVideo(_ task: ProviderTask, context: GenerationContext) async throws {
        let http = HTTPRequest(method: .delete, url: url("/videos/\(ProviderNaming.pathSegment(task.id, fallback: "invalid-video-id"))"), headers: headers, options: options(total: settings.videoRequestTimeout))
        do throws(HTTPError) {
            _ = try await client.execute(http)
        } catch let error where error.status == 404 {
            return
        } catch {
            throw jobError(error, context: context)
        }
    }

    private func videoState(_ json: JSONValue, response: HTTPResponse, request: GenerationRequest, context: GenerationContext) async throws -> GenerationOutcome {
        guard let id = json["id"]?.stringValue, let status = json["status"]?.stringValue else {
            throw OpenAIFailure.malformed("a video without id or status", requestID: response.requestID)
        }
        switch status {
        case "queued", "in_progress":
            context.logger.debug("OpenAI video pending", metadata: ["openai.video": "\(id)", "openai.progress": "\(json["progress"]?.intValue ?? 0)"])
            return .pending(ProviderTask(provider: name, id: id), pollAfter: response.rate.pollAfter ?? settings.defaultPollInterval)
        case "completed":
            return .finished(try await downloadVideo(id: id, video: json, request: request, context: context))
        case "failed":
            throw OpenAIFailure.failedVideo(json["error"], id: id, requestID: response.requestID)
        default:
            throw OpenAIFailure.malformed("video status \(status)", requestID: response.requestID)
        }
    }

    private func downloadVideo(id: String, video: JSONValue, request: GenerationRequest, context: GenerationContext) async throws -> GenerationResult {
        var headers = self.headers
        headers.set("Accept", "application/binary")
        let http = HTTPRequest(
            url: url("/videos/\(ProviderNaming.pathSegment(id, fallback: "invalid-video-id"))/content?variant=video"), headers: headers,
            options: options(total: settings.downloadTimeout))
        let file = context.workDirectory.appendingPathComponent("openai-video-\(ProviderNaming.fileName(id)).mp4")
        try context.makeWorkDirectory()
        let download: HTTPDownload
        do throws(HTTPError) {
            download = try await client.download(http, to: file, maxBytes: settings.maxVideoBytes)
        } catch {
            context.logger.warning("OpenAI video download failed", metadata: Self.metadata(http, requestID: error.requestID, extra: ["error": "\(error)"]))
            throw jobError(error, context: context)
        }
        context.logger.debug("OpenAI video downloaded", metadata: Self.metadata(http, requestID: download.requestID, extra: ["bytes": "\(download.byteCount)"]))
        let seconds = video["seconds"]?.stringValue.flatMap(Double.init) ?? video["seconds"]?.doubleValue ?? 0
        return GenerationResult(
            files: [GeneratedFile(url: download.file, mimeType: "video/mp4")], usage: Usage(unit: "video_seconds", amount: seconds),
            model: video["model"]?.stringValue ?? request.model ?? settings.videoModel)
    }
}
