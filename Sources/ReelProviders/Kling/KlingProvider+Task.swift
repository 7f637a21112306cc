import Foundation
import ReelCore
import ReelHTTP

extension KlingProvider {
    /// What a task answer (create or query) says: still working, failed, or done, in which case
    /// its output is downloaded.
    func outcome(_ json: JSONValue, response: HTTPResponse, endpoint: KlingEndpoint, request: GenerationRequest,
                 context: GenerationContext) async throws -> GenerationOutcome {
        let requestID = json["request_id"]?.stringValue ?? response.requestID
        let data = json["data"] ?? .null
        guard let taskID = Self.taskID(data), let status = data["task_status"]?.stringValue else {
            throw KlingFailure.malformed("a task without task_id or task_status", requestID: requestID)
        }
        var logger = context.logger
        logger[metadataKey: "kling.task"] = "\(taskID)"
        if let requestID { logger[metadataKey: "kling.request_id"] = "\(requestID)" }
        switch status.lowercased() {
        case "submitted", "processing":
            logger.debug("Kling task pending", metadata: ["kling.status": "\(status)"])
            // Kling documents no pace; a `Retry-After` on the answer (a gateway, a test server) is
            // taken as one, at least a second so that a "0" cannot make a busy loop.
            let pace = response.rate.retryAfter.map { max($0, .seconds(1)) } ?? settings.pollInterval
            return .pending(ProviderTask(provider: name, id: taskID), pollAfter: pace)
        case "succeed", "succeeded":
            var context = context
            context.logger = logger
            return .finished(try await download(data, taskID: taskID, endpoint: endpoint, request: request, requestID: requestID, context: context))
        case "failed":
            logger.notice("Kling task failed", metadata: ["kling.reason": "\(data["task_status_msg"]?.stringValue ?? "")"])
            throw KlingFailure.taskFailed(taskID, message: data["task_status_msg"]?.stringValue, requestID: requestID)
        default:
            throw KlingFailure.malformed("task status \(status)", requestID: requestID)
        }
    }

    /// `task_id` is documented as a string of digits; a number is taken too.
    static func taskID(_ data: JSONValue) -> String? {
        switch data["task_id"] {
        case .string(let id) where !id.isEmpty: id
        case .int(let id): String(id)
        default: nil
        }
    }

    private func download(_ data: JSONValue, taskID: String, endpoint: KlingEndpoint, request: GenerationRequest, requestID: String?,
                          context: GenerationContext) async throws -> GenerationResult {
        let isVideo = endpoint != .imageGeneration
        let items = data["task_result"]?[isVideo ? "videos" : "images"]?.arrayValue ?? []
        let urls = items.compactMap { $0["url"]?.stringValue }.filter { !$0.isEmpty }
        guard !urls.isEmpty else {
            throw KlingFailure.malformed("a finished task \(taskID) without task_result.\(isVideo ? "videos" : "images")[].url", requestID: requestID)
        }
        try context.makeWorkDirectory()
        var files: [GeneratedFile] = []
        for (index, url) in urls.enumerated() {
            let fallback = isVideo ? "mp4" : "png"
            let ext = Self.fileExtension(url, fallback: fallback)
            let file = context.workDirectory.appendingPathComponent("kling-\(isVideo ? "video" : "image")-\(ProviderNaming.fileName(taskID))-\(index).\(ext)")
            // The CDN's links are signed themselves: no token goes there, and it may redirect.
            let http = HTTPRequest(url: url, options: HTTPRequestOptions(connectTimeout: settings.connectTimeout, totalTimeout: settings.downloadTimeout, redirects: .follow(max: 5)))
            let download: HTTPDownload
            do throws(HTTPError) {
                download = try await client.download(http, to: file, maxBytes: isVideo ? settings.maxVideoBytes : settings.maxImageBytes)
            } catch {
                context.logger.warning("Kling output download failed", metadata: ["error": "\(error)"])
                throw KlingFailure.jobError(error)
            }
            context.logger.debug("Kling output downloaded", metadata: ["bytes": "\(download.byteCount)", "sha256": "\(download.sha256)"])
            files.append(GeneratedFile(url: download.file, mimeType: Self.mimeType(download.contentType, ext: ext, video: isVideo)))
        }
        var notes: [String] = []
        if let units = data["final_unit_deduction"].flatMap({ $0.stringValue ?? $0.doubleValue.map { String($0) } }) {
            notes.append("Kling units deducted: \(units)")
        }
        let model = request.model ?? (isVideo ? settings.videoModel : settings.imageModel)
        if isVideo {
            let seconds = items.compactMap { $0["duration"]?.stringValue.flatMap(Double.init) ?? $0["duration"]?.doubleValue }.reduce(0, +)
            let amount = seconds > 0 ? seconds : Double(Self.duration(request.durationSeconds, model: model, endpoint: endpoint)) ?? 0
            return GenerationResult(files: files, usage: Usage(unit: "video_seconds", amount: amount), model: model, notes: notes)
        }
        return GenerationResult(files: files, usage: Usage(unit: "images", amount: Double(files.count)), model: model, notes: notes)
    }

    static func fileExtension(_ url: String, fallback: String) -> String {
        let ext = URL(string: url)?.pathExtension.lowercased() ?? ""
        return ["mp4", "mov", "png", "jpg", "jpeg", "webp"].contains(ext) ? ext : fallback
    }

    static func mimeType(_ contentType: String?, ext: String, video: Bool) -> String {
        if let type = contentType?.split(separator: ";").first.map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }),
           type.hasPrefix(video ? "video/" : "image/") {
            return type
        }
        switch ext {
        case "mov": return "video/quicktime"
        case "jpg", "jpeg": return "image/jpeg"
        case "webp": return "image/webp"
        case "png": return "image/png"
        default: return video ? "video/mp4" : "image/png"
        }
    }
}
