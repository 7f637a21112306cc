import Foundation
@testable import ReelFileRender
import Testing

@Suite struct TimelineFileTests {
    /// A directory with `files` (empty) and `timeline.json`, removed after `body`.
    func withTimeline(_ json: String, files: [String], _ body: (URL) throws -> Void) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("timeline-file-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("clips"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for file in files { try Data().write(to: directory.appendingPathComponent(file)) }
        let timeline = directory.appendingPathComponent("timeline.json")
        try Data(json.utf8).write(to: timeline)
        try body(timeline)
    }

    @Test func assetIdsArePathsFromTheTimelinesDirectoryOrAbsolute() throws {
        try withTimeline(
            #"{"version": 2, "video": [{"id": "a", "asset": "clips/a.mp4", "out": 1}, {"id": "b", "asset": "/dev/null", "out": 1}]}"#,
            files: ["clips/a.mp4"]
        ) { url in
            let file = try TimelineFile(path: url.path)
            #expect(file.media["clips/a.mp4"] == url.deletingLastPathComponent().appendingPathComponent("clips/a.mp4").standardizedFileURL)
            #expect(file.media["/dev/null"] == URL(fileURLWithPath: "/dev/null"))
            #expect(!file.namesFormat)
        }
    }

    @Test func everyMissingFileIsNamedByItsElement() throws {
        try withTimeline(
            #"{"version": 2, "video": [{"id": "a", "asset": "clips/a.mp4", "out": 1}, {"id": "b", "asset": "clips/b.mp4", "out": 1}], "audio": {"voice": [{"id": "vo", "asset": "vo.wav", "at": 0}]}, "output": {"format": "webm"}}"#,
            files: []
        ) { url in
            do {
                _ = try TimelineFile(path: url.path)
                Issue.record("a timeline with missing files was read")
            } catch let error as RenderFailure {
                #expect(error.code == .missingInput)
                for element in [#"video[0] "a""#, #"video[1] "b""#, #"audio.voice[0] "vo""#] {
                    #expect(error.message.contains(element), "\(error.message)")
                }
            }
        }
    }

    @Test func aTimelineThatDoesNotDecodeNamesTheElement() throws {
        try withTimeline(#"{"version": 2, "video": [{"id": "a", "asset": "clips/a.mp4"}]}"#, files: []) { url in
            do {
                _ = try TimelineFile(path: url.path)
                Issue.record("a timeline without out points was read")
            } catch let error as RenderFailure {
                #expect(error.code == .invalidTimeline)
                #expect(error.message.contains("video[0].out: required"), "\(error.message)")
            }
        }
    }
}
