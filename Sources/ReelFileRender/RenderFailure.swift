import Foundation

/// Why `reeld render` stopped, with the sysexits(3) code a script can tell apart: a wrong
/// command line, a timeline that cannot be rendered, a file that is not there.
public struct RenderFailure: Error, Sendable, CustomStringConvertible {
    public enum Code: Int32, Sendable {
        /// EX_USAGE: the command line contradicts itself or the timeline (an output of another format).
        case usage = 64
        /// EX_DATAERR: the timeline is not valid; the message names the element.
        case invalidTimeline = 65
        /// EX_NOINPUT: the timeline file or a file it names is not there.
        case missingInput = 66
        /// EX_CANTCREAT: the output's directory is not there.
        case cannotCreate = 73
        /// 128 + SIGINT, what a shell reports for a command stopped by Ctrl-C.
        case cancelled = 130
        /// The render itself failed (an input libav cannot decode midway, a full disk).
        case failed = 1
    }

    public var code: Code
    public var message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
