import Glibc

/// A system call of the spool failed (`code` is the errno). For a file in `new/`, the file stays
/// there and is tried again on the next scan; from `SpoolWatcher.run()`, the watcher has stopped.
public struct SpoolIOError: Error, Sendable, Hashable, CustomStringConvertible {
    public var operation: String
    public var path: String
    public var code: Int32

    var isNotFound: Bool { code == ENOENT }
    var isAlreadyThere: Bool { code == EEXIST }
    var isSymlink: Bool { code == ELOOP }
    var isPermissionDenied: Bool { code == EACCES }

    /// Every suffixed name in the destination is taken.
    static func noFreeName(in path: String) -> SpoolIOError {
        SpoolIOError(operation: "move", path: path, code: EEXIST)
    }

    public var description: String {
        "\(operation) \(path) failed: \(String(cString: strerror(code))) (errno \(code))"
    }

    /// Runs a system call, retrying on `EINTR`, and turns `-1` into a `SpoolIOError`.
    @discardableResult
    static func check<T: BinaryInteger>(_ operation: String, _ path: @autoclosure () -> String, _ call: () -> T) throws(SpoolIOError) -> T {
        while true {
            let result = call()
            if result != -1 { return result }
            let code = errno
            if code == EINTR { continue }
            throw SpoolIOError(operation: operation, path: path(), code: code)
        }
    }
}
