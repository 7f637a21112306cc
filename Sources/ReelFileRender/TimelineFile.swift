import Foundation
import ReelCore

/// A timeline file as `reeld render` reads it, with the file behind each asset.
///
/// The format is the daemon's (`config/timeline.schema.json`); only the asset ids mean something
/// else here: each is a file path, relative to the timeline file's directory or absolute, so a
/// timeline beside its clips says `"asset": "clips/harbour.mp4"`. The user renders their own
/// files, so a path may lead anywhere they can read.
struct TimelineFile {
    let url: URL
    var timeline: Timeline
    /// Whether the file sets `output.format` itself; otherwise the output file's extension chooses.
    let namesFormat: Bool
    /// The file for each asset id.
    let media: [String: URL]

    /// Reads and decodes the timeline and checks that every file it names exists.
    /// - Throws: `RenderFailure` with `.missingInput` naming each element whose file is not
    ///   there, or `.invalidTimeline` naming the element that does not decode.
    init(path: String) throws(RenderFailure) {
        url = URL(fileURLWithPath: path).standardizedFileURL
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw RenderFailure(.missingInput, "cannot read the timeline \(path): \(Self.reason(error))")
        }
        do {
            timeline = try Timeline(json: data)
        } catch {
            throw RenderFailure(.invalidTimeline, "\(path): \(error)")
        }
        let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        namesFormat = (object?["output"] as? [String: Any])?["format"] != nil

        let directory = url.deletingLastPathComponent()
        var media: [String: URL] = [:]
        for name in timeline.assetNames {
            media[name] = (name.hasPrefix("/") ? URL(fileURLWithPath: name) : directory.appendingPathComponent(name)).standardizedFileURL
        }
        self.media = media

        var missing: [String] = []
        for (element, name) in Self.elements(of: timeline) {
            guard let file = media[name] else { continue }
            var isDirectory: ObjCBool = false
            if !FileManager.default.fileExists(atPath: file.path, isDirectory: &isDirectory) {
                missing.append("\(element): no such file \"\(name)\" (\(file.path))")
            } else if isDirectory.boolValue {
                missing.append("\(element): \"\(name)\" is a directory (\(file.path))")
            }
        }
        if !missing.isEmpty {
            throw RenderFailure(.missingInput, "\(path): " + missing.joined(separator: "\n  "))
        }
    }

    /// Each element that names an asset, named as validation names it, in the timeline's order.
    static func elements(of timeline: Timeline) -> [(element: String, asset: String)] {
        var found = timeline.video.enumerated().map { ("video[\($0)] \"\($1.id)\"", $1.asset) }
        found += timeline.audio.voice.enumerated().map { ("audio.voice[\($0)] \"\($1.id)\"", $1.asset) }
        found += timeline.audio.effects.enumerated().map { ("audio.effects[\($0)] \"\($1.id)\"", $1.asset) }
        if let music = timeline.audio.music { found.append(("audio.music", music.asset)) }
        return found
    }

    /// "No such file or directory" rather than Foundation's whole error.
    static func reason(_ error: any Error) -> String {
        let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError
        if let underlying, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        return (error as NSError).localizedDescription
    }
}
