import Crypto
import Foundation
import ReelCore

/// Storage on the local filesystem under one root directory.
///
/// Files arrive from a job's scratch directory and are moved in with a rename (copied when the
/// scratch directory is on another filesystem) and checksummed. Keys never escape the root.
public struct LocalStorage: Sendable {
    public let root: URL

    public init(root: URL) {
        self.root = root.standardizedFileURL
    }

    /// Moves `file` into `projects/<project>/<category>/<name>` (category from the MIME type unless
    /// given) and describes it.
    /// An existing file at the key is replaced atomically (a re-run of the same generation).
    public func store(_ file: URL, project: UUID, name: String, mimeType: String, category: StorageCategory? = nil) throws -> StoredFile {
        let category = category ?? StorageCategory.forMIMEType(mimeType)
        let key = "projects/\(project.lowercasedText)/\(category.rawValue)/\(try Self.safeName(name))"
        let destination = try url(forKey: key)
        let fm = FileManager.default
        try fm.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        if rename(file.path, destination.path) != 0 {
            // Another filesystem: copy beside the destination, then rename into place.
            let temporary = destination.deletingLastPathComponent().appendingPathComponent(".\(UUID().uuidString).partial")
            try fm.copyItem(at: file, to: temporary)
            guard rename(temporary.path, destination.path) == 0 else {
                try? fm.removeItem(at: temporary)
                throw StorageError("cannot move \(file.lastPathComponent) into storage at \(key): errno \(errno)")
            }
            try? fm.removeItem(at: file)
        }
        return try describe(key: key, mimeType: mimeType)
    }

    /// Size and checksum of a stored file.
    public func describe(key: String, mimeType: String) throws -> StoredFile {
        let url = try url(forKey: key)
        let (size, digest) = try Self.sha256(of: url)
        return StoredFile(key: key, url: url, sizeBytes: size, sha256: digest, mimeType: mimeType)
    }

    /// The file for a key; refuses keys that would leave the root.
    public func url(forKey key: String) throws -> URL {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard !key.hasPrefix("/"), !parts.isEmpty, parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }) else {
            throw StorageError("storage key \(key) is not a plain relative path")
        }
        return root.appendingPathComponent(key)
    }

    static func safeName(_ name: String) throws -> String {
        guard !name.isEmpty, name.count <= 200, !name.hasPrefix("."),
              name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw StorageError("file name \(name) is not allowed in storage")
        }
        return name
    }

    static func sha256(of url: URL) throws -> (Int64, String) {
        guard let handle = FileHandle(forReadingAtPath: url.path) else { throw StorageError("cannot read \(url.path)") }
        defer { try? handle.close() }
        var hasher = SHA256()
        var size: Int64 = 0
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(data: chunk)
            size += Int64(chunk.count)
        }
        return (size, hasher.finalize().map { String(format: "%02x", $0) }.joined())
    }
}

/// A storage failure, naming the file or key.
public struct StorageError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
