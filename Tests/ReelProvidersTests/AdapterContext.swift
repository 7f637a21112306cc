import Foundation
import Logging
import ReelHTTP
import ReelProviders

/// What every adapter's tests run in: a work directory of their own (removed afterwards), a
/// capture of the adapter's log lines, the generation context over both, and a running HTTP
/// client. `name` labels the directory and the client's logger.
func withAdapterContext<R>(
    _ name: String, _ body: (HTTPClient, GenerationContext, LogLines, URL) async throws -> R
) async throws -> R {
    let work = FileManager.default.temporaryDirectory.appendingPathComponent("reeld-\(name)-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: work) }
    let logs = LogLines()
    let context = GenerationContext(workDirectory: work, logger: logs.logger)
    return try await HTTPClient.withRunningClient(logger: Logger(label: "reeld.\(name).test")) { client in
        try await body(client, context, logs, work)
    }
}
