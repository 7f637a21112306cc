import Foundation
import ReelCore

/// A pending local video generation, recorded as a small JSON file so a repeated `generate`
/// (a retry, a recovery after a crash) finds the task instead of starting another.
struct LocalVideoTask: Codable, Sendable, Hashable {
    var id: String
    var externalID: String
    var createdAt: Date
    var dueAt: Date

    static func id(for externalID: String) -> String { "video-" + LocalProvider.fileStem(for: externalID) }

    static func url(for id: String, in directory: URL) -> URL { directory.appendingPathComponent("\(id).json") }

    /// Reads the task with this id, or nil if none was recorded.
    static func load(id: String, from directory: URL) throws -> LocalVideoTask? {
        let url = url(for: id, in: directory)
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        do {
            return try JSONDecoder().decode(LocalVideoTask.self, from: data)
        } catch {
            throw JobError.permanent("local video task file \(url.path) is unreadable: \(error)")
        }
    }

    /// Records `candidate` unless a task with its id exists; returns whichever is recorded.
    /// The file is written whole under a temporary name and hard-linked into place, which fails
    /// if the name exists, so two racing submissions agree on one task.
    static func recordIfAbsent(_ candidate: LocalVideoTask, in directory: URL) throws -> LocalVideoTask {
        if let existing = try load(id: candidate.id, from: directory) { return existing }
        let final = url(for: candidate.id, in: directory)
        let temporary = directory.appendingPathComponent(".\(candidate.id).\(UUID().uuidString).tmp")
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try JSONEncoder().encode(candidate).write(to: temporary)
        } catch {
            throw JobError("cannot record local video task in \(directory.path): \(error)", class: .transient)
        }
        defer { try? FileManager.default.removeItem(at: temporary) }
        do {
            try FileManager.default.linkItem(at: temporary, to: final)
            return candidate
        } catch {
            if let existing = try load(id: candidate.id, from: directory) { return existing }
            throw JobError("cannot record local video task at \(final.path): \(error)", class: .transient)
        }
    }
}
