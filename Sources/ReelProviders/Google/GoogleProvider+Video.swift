import Foundation
import ReelCore
import ReelHTTP

extension GoogleProvider {
    /// The lengths Veo 3.x makes, in seconds.
    static let videoSeconds = [4, 6, 8]

    /// What a video request becomes on Veo's wire: the nearest length Veo makes (the longer one
    /// on a tie; 8 s when none is asked for, as Veo's default; always 8 with reference images, as Veo requires), 16:9
    /// unless the frame is taller than wide, and 1080p only for a frame at least that large
    /// and 8 s long (Veo makes 1080p at 8 s only), else 720p.
    struct VideoShape: Equatable {
        var seconds: Int
        var aspectRatio: String
        var resolution: String
    }

    static func videoShape(_ request: GenerationRequest, withReferences: Bool) -> VideoShape {
        var seconds = 8
        if let wanted = request.durationSeconds, !withReferences {
            // Halfway between two lengths, the longer: a clip trimmed later beats one too short.
            seconds = videoSeconds.min { a, b in
                let (da, db) = (abs(Double(a) - wanted), abs(Double(b) - wanted))
                return da == db ? a > b : da < db
            }!
        }
        var aspect = "16:9", resolution = "720p"
        if let width = request.width, let height = request.height, width > 0, height > 0 {
            aspect = height > width ? "9:16" : "16:9"
            if min(width, height) >= 1080, seconds == 8 { resolution = "1080p" }
        }
        return VideoShape(seconds: seconds, aspectRatio: aspect, resolution: resolution)
    }

    /// Starts a Veo video (`predictLongRunning`) and answers pending with its operation's name,
    /// polled every `pollInterval`. The start frame goes as `image`, the end frame as
    /// `lastFrame`, both as base64 bytes; reference images, without a start frame, as Veo's
    /// asset references. Veo 3 makes the soundtrack with the picture.
    func createVideo(_ request: GenerationRequest, context: GenerationContext) async throws -> GenerationOutcome {
        let model = request.model ?? settings.videoModel
        if request.endFrame != nil, request.startFrame == nil {
            throw JobError.permanent("Veo takes an end frame only together with a start frame")
        }
        let references = request.startFrame == nil ? Array(request.referenceImages.prefix(3)) : []
        let shape = Self.videoShape(request, withReferences: !references.isEmpty)
        var instance: [String: JSONValue] = ["prompt": .string(request.prompt)]
        if let start = request.startFrame { instance["image"] = try Self.veoImage(start, role: "start frame") }
        if let end = request.endFrame { instance["lastFrame"] = try Self.veoImage(end, role: "end frame") }
        if !references.isEmpty {
            instance["referenceImages"] = .array(try references.map { ["image": try Self.veoImage($0, role: "reference image"), "referenceType": "asset"] })
        }
        var parameters: [String: JSONValue] = [
            "aspectRatio": .string(shape.aspectRatio), "durationSeconds": .int(Int64(shape.seconds)), "resolution": .string(shape.resolution),
        ]
        if let negative = request.negativePrompt, !negative.isEmpty { parameters["negativePrompt"] = .string(negative) }
        let body: JSONValue = ["instances": [.object(instance)], "parameters": .object(parameters)]
        let http = HTTPRequest.json(url: try modelURL(model, "predictLongRunning"), body: body, headers: headers, options: options(total: settings.videoRequestTimeout))
        let (json, response) = try await exchange(http, creates: true, context: context)
        guard let operation = json["name"]?.stringValue, Self.isOperationName(operation) else {
            throw GoogleFailure.malformed("no operation name in the answer to predictLongRunning", requestID: response.requestID)
        }
        context.logger.info("Veo operation started", metadata: ["google.operation": "\(operation)", "google.model": "\(model)"])
        return try await videoState(json, operation: operation, request: request, context: context)
    }

    func pollVideo(operation: String, request: GenerationRequest, context: GenerationContext) async throws -> GenerationOutcome {
        guard Self.isOperationName(operation) else {
            throw JobError.permanent("\"\(operation)\" is not a Google operation name")
        }
        let http = HTTPRequest(url: url("/" + operation), headers: headers, options: options(total: settings.videoRequestTimeout))
        let (json, _) = try await exchange(http, creates: false, context: context)
        return try await videoState(json, operation: operation, request: request, context: context)
    }

    /// An operation name as one relative path (`models/veo…/operations/id`): letters, digits,
    /// `-`, `_`, `.` and single slashes, never `..`, so a stored task cannot reach another path.
    static func isOperationName(_ name: String) -> Bool {
        let segments = name.split(separator: "/", omittingEmptySubsequences: false)
        return !segments.isEmpty && segments.allSatisfy { segment in
            !segment.isEmpty && segment != "." && segment != ".."
                && segment.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
        }
    }

    /// Veo's image form in the Gemini API: `bytesBase64Encoded` and `mimeType` (Veo refuses
    /// `inlineData` there).
    static func veoImage(_ file: URL, role: String) throws -> JSONValue {
        let image = try inlineImage(file, role: role)
        return ["bytesBase64Encoded": .string(image.data), "mimeType": .string(image.mimeType)]
    }

    private func videoState(_ json: JSONValue, operation: String, request: GenerationRequest, context: GenerationContext) async throws -> GenerationOutcome {
        if let error = json["error"], error.objectValue != nil {
            context.logger.warning("Veo operation failed", metadata: ["google.operation": "\(operation)", "google.error": "\(error["message"]?.stringValue ?? "")"])
            throw GoogleFailure.operationFailed(error, operation: operation)
        }
        guard json["done"]?.boolValue == true else {
            context.logger.debug("Veo operation pending", metadata: ["google.operation": "\(operation)"])
            return .pending(ProviderTask(provider: name, id: operation), pollAfter: settings.pollInterval)
        }
        let outer = json["response"]
        let answer = outer?["generateVideoResponse"] ?? outer?["generate_video_response"] ?? outer
        let samples = (answer?["generatedSamples"] ?? answer?["generated_samples"] ?? answer?["videos"])?.arrayValue ?? []
        guard let sample = samples.first else {
            let filtered = (answer?["raiMediaFilteredCount"] ?? answer?["rai_media_filtered_count"])?.intValue ?? 0
            let reasons = ((answer?["raiMediaFilteredReasons"] ?? answer?["rai_media_filtered_reasons"])?.arrayValue ?? [])
                .map { $0.stringValue ?? $0.intValue.map(String.init) ?? "\($0)" }
            if filtered > 0 || !reasons.isEmpty {
                throw GoogleFailure.blocked("the video", reason: "RAI media filter", message: reasons.isEmpty ? nil : reasons.joined(separator: "; "), requestID: operation)
            }
            // The operation is over: asking again gives the same empty answer.
            throw JobError.permanent("Veo finished without a video (operation \(operation))", detail: ["provider": "google", "operation": .string(operation)])
        }
        let video = sample["video"] ?? sample
        let shape = Self.videoShape(request, withReferences: request.startFrame == nil && !request.referenceImages.isEmpty)
        let file = context.workDirectory.appendingPathComponent("google-video-\(ProviderNaming.fileName(operation)).mp4")
        if let encoded = (video["encodedVideo"] ?? video["bytesBase64Encoded"] ?? video["encoded_video"])?.stringValue {
            guard let bytes = Data(base64Encoded: encoded, options: .ignoreUnknownCharacters), !bytes.isEmpty else {
                throw GoogleFailure.malformed("the video's bytes are not base64", requestID: operation)
            }
            guard Int64(bytes.count) <= settings.maxVideoBytes else {
                throw JobError.permanent("Google's video is larger than the limit of \(settings.maxVideoBytes) bytes")
            }
            try Self.write(bytes, to: file, what: "video")
        } else if let uri = video["uri"]?.stringValue {
            try await download(uri, to: file, operation: operation, context: context)
        } else {
            throw GoogleFailure.malformed("a finished video with neither uri nor bytes", requestID: operation)
        }
        let model = request.model ?? settings.videoModel
        var notes = ["\(shape.seconds) s, \(shape.aspectRatio), \(shape.resolution)"]
        if model.hasPrefix("veo-3") { notes.append("with the soundtrack Veo made") }
        return .finished(GenerationResult(
            files: [GeneratedFile(url: file, mimeType: (video["mimeType"] ?? video["encoding"])?.stringValue ?? "video/mp4")],
            usage: Usage(unit: "video_seconds", amount: Double(shape.seconds)), model: model, notes: notes))
    }

    /// Streams the video to its file with the size cap, following Google's redirect to its
    /// storage (ReelHTTP drops the key when a redirect leaves the host).
    private func download(_ uri: String, to file: URL, operation: String, context: GenerationContext) async throws {
        let source = videoSource(uri)
        var options = options(total: settings.downloadTimeout)
        options.redirects = .follow(max: 5)
        let http = HTTPRequest(url: source.url, headers: source.withKey ? headers : HTTPHeaders(), options: options)
        try context.makeWorkDirectory()
        let download: HTTPDownload
        do throws(HTTPError) {
            download = try await client.download(http, to: file, maxBytes: settings.maxVideoBytes)
        } catch {
            context.logger.warning("Veo video download failed", metadata: Self.metadata(http, requestID: error.requestID, extra: ["error": "\(error)", "google.operation": "\(operation)"]))
            throw GoogleFailure.jobError(error)
        }
        context.logger.debug("Veo video downloaded", metadata: Self.metadata(http, requestID: download.requestID, extra: ["bytes": "\(download.byteCount)", "google.operation": "\(operation)"]))
    }

    /// Where a finished video is fetched from, and whether the key goes along. Google's URI names
    /// a file of the API (`…/files/{id}:download?alt=media`): like Google's SDK, the adapter asks
    /// the configured base URL for that file, so the key only ever goes where the operator sent
    /// it, whatever host the URI spells. Another URI on the API's own host gets the key too;
    /// one elsewhere (a signed storage URL) is fetched as given, without it.
    func videoSource(_ uri: String) -> (url: String, withKey: Bool) {
        if let path = URL(string: uri)?.path, let range = path.range(of: "/files/", options: .backwards) {
            let name = path[range.upperBound...]
            if name.hasSuffix(":download") {
                let id = name.dropLast(":download".count)
                if !id.isEmpty, id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_".contains($0)) }) {
                    return (url("/files/\(id):download?alt=media"), true)
                }
            }
        }
        return (uri, Self.origin(uri) == Self.origin(settings.baseURL))
    }

    /// Scheme, host and port, to tell whether a URL is on the API's own host.
    static func origin(_ text: String) -> String? {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), let host = url.host?.lowercased() else { return nil }
        return "\(scheme)://\(host):\(url.port ?? (scheme == "https" ? 443 : 80))"
    }
}
