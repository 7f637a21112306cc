import Foundation

/// A fresh directory under the system's temporary directory, removed by `remove()`.
///
/// Created world-traversable (0755), unlike `mkdtemp`'s 0700: when tests run as root, a
/// `LocalCluster` inside it runs its server as the `postgres` user, which must reach it.
public struct TemporaryDirectory: Sendable {
    public let url: URL
    public var path: String { url.path }

    /// - Parameter prefix: names the directory, so a leftover says which test made it.
    public init(prefix: String) throws {
        url = URL(fileURLWithPath: NSTemporaryDirectory())
            .appendingPathComponent("\(prefix)-\(getpid())-\(UUID().uuidString.prefix(8).lowercased())")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
    }

    public func appending(_ component: String) -> URL { url.appendingPathComponent(component) }

    public func remove() {
        try? FileManager.default.removeItem(at: url)
    }
}
