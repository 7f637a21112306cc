import Foundation
import Logging
import ReelCore

/// Where an adapter writes what it makes, and whom it tells.
public struct GenerationContext: Sendable {
    /// A scratch directory owned by this job attempt; the engine moves results into storage.
    public var workDirectory: URL
    public var logger: Logger

    public init(workDirectory: URL, logger: Logger) {
        self.workDirectory = workDirectory
        self.logger = logger
    }
}

extension GenerationContext {
    /// Makes the work directory before an adapter writes into it; a failure is the node's
    /// (a full or read-only disk), so the attempt is retried.
    public func makeWorkDirectory() throws {
        do {
            try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)
        } catch {
            throw JobError("cannot make the work directory: \(error.localizedDescription)", class: .transient)
        }
    }
}
