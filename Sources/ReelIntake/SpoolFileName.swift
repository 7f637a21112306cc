/// The name of one file in `new/`, checked to be a plain name that stays inside its directory.
struct SpoolFileName: Sendable, Hashable, CustomStringConvertible {
    /// Room is kept for a collision suffix and `.error.json` within the usual 255-byte limit.
    static let maxBytes = 200
    /// What a rejected file's reason is named after: `rejected/NAME.error.json`.
    static let reportSuffix = ".error.json"

    let value: String

    /// Why a name is refused; the file is left where it is.
    enum Refusal: Error, Sendable, Hashable {
        case hidden
        case containsSlash
        case notUTF8
        case empty
        case tooLong
        case controlCharacter
        case reportSuffix

        var reason: String {
            switch self {
            case .hidden: "name starts with \".\" (hidden files are not jobs)"
            case .containsSlash: "name contains \"/\""
            case .notUTF8: "name is not valid UTF-8"
            case .empty: "name is empty"
            case .tooLong: "name is longer than \(SpoolFileName.maxBytes) bytes"
            case .controlCharacter: "name contains a control character"
            case .reportSuffix: "name ends in \"\(SpoolFileName.reportSuffix)\", which reeld keeps for the reasons beside rejected files"
            }
        }
    }

    /// Checks raw directory-entry bytes. `..` and `.` are refused as hidden names.
    static func validate(_ bytes: [UInt8]) -> Result<SpoolFileName, Refusal> {
        if bytes.isEmpty { return .failure(.empty) }
        if bytes.first == UInt8(ascii: ".") { return .failure(.hidden) }
        if bytes.contains(UInt8(ascii: "/")) { return .failure(.containsSlash) }
        if bytes.contains(0) || bytes.contains(where: { $0 < 0x20 || $0 == 0x7F }) { return .failure(.controlCharacter) }
        guard let text = String(validating: bytes, as: UTF8.self) else { return .failure(.notUTF8) }
        if bytes.count > maxBytes { return .failure(.tooLong) }
        // A rejected file `a.error.json` would take the name of the reason of a rejected file `a`.
        if text.hasSuffix(reportSuffix) { return .failure(.reportSuffix) }
        return .success(SpoolFileName(value: text))
    }

    /// The name for logs and reports of a name that may not be valid UTF-8.
    static func display(_ bytes: [UInt8]) -> String {
        String(decoding: bytes, as: UTF8.self)
    }

    var description: String { value }
}
