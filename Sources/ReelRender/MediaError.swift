import CFFmpeg
import Foundation

/// A failure in libav work: which file, what was being done, and libav's own words.
///
/// Media errors are about the input or the output, not the network: retrying the same
/// operation on the same file will fail the same way, so callers treat them as permanent
/// unless the file itself changes.
public struct MediaError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was being done when it failed.
    public enum Operation: String, Sendable, Hashable, Codable {
        case open, probe, decode, encode, scale, resample, mux, write, invalidInput
    }

    public var operation: Operation
    /// The file being read or written, if any.
    public var path: String?
    /// libav's error code (a negative `AVERROR`), when libav reported the failure.
    public var code: Int32?
    /// libav's message (`av_strerror`) or ours.
    public var message: String

    public init(_ operation: Operation, path: String?, code: Int32? = nil, message: String) {
        self.operation = operation
        self.path = path
        self.code = code
        self.message = message
    }

    /// An error from a libav return code, with the message `av_strerror` gives for it.
    init(_ operation: Operation, path: String?, code: Int32, while doing: String) {
        self.init(operation, path: path, code: code, message: "\(doing): \(Self.libavMessage(code))")
    }

    public var description: String {
        "media \(operation.rawValue) failed" + (path.map { " for \($0)" } ?? "") + ": \(message)"
    }

    static func libavMessage(_ code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        return buffer.withUnsafeMutableBufferPointer { buf in
            if av_strerror(code, buf.baseAddress, buf.count) < 0 { return "libav error \(code)" }
            return String(cString: buf.baseAddress!)
        }
    }
}

/// Throws a `MediaError` when a libav call returned a negative code; returns the code otherwise.
@discardableResult
func check(_ code: Int32, _ operation: MediaError.Operation, path: String?, _ doing: @autoclosure () -> String) throws(MediaError) -> Int32 {
    if code < 0 { throw MediaError(operation, path: path, code: code, while: doing()) }
    return code
}
