import Foundation
import Logging

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
