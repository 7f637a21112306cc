import Foundation
import ReelBlocking
import ReelRender
import ReelStorage

/// The studio's media in storage: a file is stored, then probed with libav when its MIME type
/// says it is media. Storage itself only moves and checksums bytes, so that a storage backend
/// never links libav.
struct MediaStorage: Sendable {
    let storage: LocalStorage
    /// Moving, hashing and probing block: they run here, never on the cooperative pool.
    let pool: BlockingPool

    /// Stores `file` (see ``LocalStorage/store(_:project:name:mimeType:category:)``) and probes it.
    func store(_ file: URL, project: UUID, name: String, mimeType: String, category: StorageCategory? = nil) async throws -> StoredMedia {
        try await pool.run { [storage] in
            let stored = try storage.store(file, project: project, name: name, mimeType: mimeType, category: category)
            return StoredMedia(file: stored, media: StoredMedia.isMedia(mimeType) ? try MediaProbe.probe(stored.url) : nil)
        }
    }

    func url(forKey key: String) throws -> URL {
        try storage.url(forKey: key)
    }
}
