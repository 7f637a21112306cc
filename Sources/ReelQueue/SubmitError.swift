import Foundation

/// Why a submit was refused.
public enum SubmitError: Error, Sendable, CustomStringConvertible {
    /// The job is invalid as submitted; the message names the field.
    case invalid(String)

    public var description: String {
        switch self {
        case .invalid(let message): "job refused: \(message)"
        }
    }
}
