import Foundation

/// The `rejected/NAME.error.json` beside a rejected file: why it was refused.
struct RejectionReport: Sendable, Hashable, Codable {
    /// The file's name in `new/` (it may be stored under a suffixed name).
    var file: String
    /// ISO-8601, UTC.
    var rejectedAt: String
    var errors: [IntakeProblem]

    enum CodingKeys: String, CodingKey {
        case file
        case rejectedAt = "rejected_at"
        case errors
    }

    init(file: String, rejectedAt: Date, errors: [IntakeProblem]) {
        self.file = file
        self.rejectedAt = rejectedAt.formatted(Date.ISO8601FormatStyle())
        self.errors = errors
    }

    var jsonBytes: [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // Strings and arrays of strings always encode.
        return Array(try! encoder.encode(self)) + [UInt8(ascii: "\n")]
    }
}
