import Foundation
import Logging
import ReelCore
import ReelHTTP

/// ElevenLabs: speech (text to speech, with character timings for subtitles), sound effects
/// and music. Every call answers with the audio itself, so nothing is ever pending: a
/// generation is one request, and one whose answer was lost is simply made again. The adapter
/// retries nothing itself; it classifies each failure for the engine (`ElevenLabsFailure`).
public struct ElevenLabsProvider: Provider {
    public let name = "elevenlabs"
    public let settings: ElevenLabsSettings
    let client: HTTPClient

    public init(settings: ElevenLabsSettings, client: HTTPClient) {
        self.settings = settings
        self.client = client
    }

    public var capabilities: Set<GenerationKind> { [.speech, .soundEffect, .music] }

    public func generate(_ request: GenerationRequest, context: GenerationContext) async throws -> GenerationOutcome {
        switch request.kind {
        case .speech: return .finished(try await speech(request, context: context))
        case .soundEffect: return .finished(try await soundEffect(request, context: context))
        case .music: return .finished(try await music(request, context: context))
        case .text, .image, .video:
            throw JobError.permanent("provider elevenlabs makes no \(request.kind.rawValue)")
        }
    }

    public func poll(_ task: ProviderTask, request: GenerationRequest, context: GenerationContext) async throws -> GenerationOutcome {
        // Every ElevenLabs call answers synchronously: there is never a task to ask about.
        throw JobError.permanent("provider elevenlabs has no task to poll for \(request.kind.rawValue)")
    }

    /// Synchronous and charged per call: a call whose answer was lost (a crash, a lost lease)
    /// is made again, as a retry after a timeout would be.
    public func recoveryRule(for kind: GenerationKind) -> RecoveryRule { .resubmit }

    // MARK: Exchanges

    /// A path under `/v1` with the configured `output_format`.
    func url(_ path: String) -> String {
        settings.baseURL + "/v1" + path + "?output_format=" + Self.queryValue(settings.outputFormat)
    }

    var headers: HTTPHeaders {
        var headers = HTTPHeaders()
        headers.set("xi-api-key", settings.apiKey, secret: true)
        return headers
    }

    /// The calls answer only once the audio is made, which may take minutes of silence on the
    /// wire: no low-speed abort, the total timeout bounds them.
    func options(total: Duration, maxBody: Int64 = 64 << 20) -> HTTPRequestOptions {
        HTTPRequestOptions(connectTimeout: settings.connectTimeout, totalTimeout: total, lowSpeed: nil, maxBodyBytes: maxBody)
    }

    /// Sends a request whose answer is audio bytes, streamed into `file` up to the size cap.
    func fetchAudio(_ request: HTTPRequest, to file: URL, context: GenerationContext) async throws -> HTTPDownload {
        let download = try await fetchBody(request, to: file, maxBytes: settings.maxAudioBytes, context: context)
        if download.contentType?.lowercased().hasPrefix("application/json") == true {
            try? FileManager.default.removeItem(at: download.file)
            throw ElevenLabsFailure.malformed("JSON where audio was expected", requestID: download.requestID)
        }
        return download
    }

    /// Sends a request and streams its answer, whatever it is, into `file` up to `maxBytes`;
    /// every failure already classified, an empty answer refused.
    func fetchBody(_ request: HTTPRequest, to file: URL, maxBytes: Int64, context: GenerationContext) async throws -> HTTPDownload {
        try context.makeWorkDirectory()
        let download: HTTPDownload
        do throws(HTTPError) {
            download = try await client.download(request, to: file, maxBytes: maxBytes)
        } catch {
            context.logger.warning("ElevenLabs request failed", metadata: Self.metadata(request, requestID: error.requestID, extra: ["error": "\(error)"]))
            throw ElevenLabsFailure.error(error)
        }
        context.logger.debug("ElevenLabs answered", metadata: Self.metadata(request, requestID: download.requestID, extra: ["bytes": "\(download.byteCount)"]))
        guard download.byteCount > 0 else {
            try? FileManager.default.removeItem(at: download.file)
            throw ElevenLabsFailure.malformed("an empty body", requestID: download.requestID)
        }
        return download
    }

    /// Where a generation's audio goes in the work directory.
    func audioFile(_ kind: String, _ request: GenerationRequest, context: GenerationContext) -> URL {
        context.workDirectory.appendingPathComponent("elevenlabs-\(kind)-\(ProviderNaming.fileName(request.externalID)).\(Self.fileExtension(settings.outputFormat))")
    }

    static func metadata(_ request: HTTPRequest, requestID: String?, extra: Logger.Metadata = [:]) -> Logger.Metadata {
        ProviderNaming.metadata("elevenlabs", request, requestID: requestID, extra: extra)
    }

    /// `character-cost`: what ElevenLabs billed for the call, when it says.
    static func characterCost(_ headers: HTTPHeaders) -> Double? {
        headers["character-cost"].flatMap { Double($0.trimmingCharacters(in: .whitespaces)) }.flatMap { $0.isFinite && $0 >= 0 ? $0 : nil }
    }

    /// The container an `output_format` names (`mp3_44100_128`, `wav_44100`, `pcm_24000`…).
    static func fileExtension(_ format: String) -> String {
        switch format.prefix(while: { $0 != "_" }).lowercased() {
        case "mp3": "mp3"
        case "wav": "wav"
        case "opus": "opus"
        case "pcm": "pcm"
        case "ulaw", "alaw": "ulaw"
        default: "bin"
        }
    }

    static func mimeType(_ format: String) -> String {
        switch format.prefix(while: { $0 != "_" }).lowercased() {
        case "mp3": "audio/mpeg"
        case "wav": "audio/wav"
        case "opus": "audio/ogg"
        case "pcm": "audio/L16"
        case "ulaw", "alaw": "audio/basic"
        default: "application/octet-stream"
        }
    }

    /// A voice id as one path segment: ElevenLabs' ids are letters and digits; anything else is
    /// refused before a call, so a job's argument cannot reach another path.
    static func voiceSegment(_ voice: String) throws -> String {
        guard !voice.isEmpty, voice.count <= 64, voice.allSatisfy(ProviderNaming.isSafe) else {
            throw JobError.permanent("args.voice: \"\(voice.prefix(80))\" is not an ElevenLabs voice id (letters and digits)")
        }
        return voice
    }

    private static func queryValue(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-_."))) ?? text
    }
}
