import Foundation

extension UUID {
    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// The canonical lowercase form PostgreSQL prints (`8d0f3b2a-1c4e-…`).
    ///
    /// By hand because the queue formats and parses several ids per job: Foundation's
    /// `uuidString` goes through `sprintf` and needs `lowercased()` after it, and
    /// `UUID(uuidString:)` through `sscanf`, which showed up in the queue's profile.
    public var lowercasedText: String {
        let bytes = uuid
        return String(unsafeUninitializedCapacity: 36) { output in
            var position = 0
            withUnsafeBytes(of: bytes) { raw in
                for (index, byte) in raw.enumerated() {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        output[position] = UInt8(ascii: "-")
                        position += 1
                    }
                    output[position] = Self.hexDigits[Int(byte >> 4)]
                    output[position + 1] = Self.hexDigits[Int(byte & 0x0F)]
                    position += 2
                }
            }
            return 36
        }
    }

    /// Parses the canonical 8-4-4-4-12 form, in either case; nil for anything else.
    public init?(text: some StringProtocol) {
        var bytes = (UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0),
                     UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0))
        let parsed = text.utf8.withContiguousStorageIfAvailable { utf8 in
            withUnsafeMutableBytes(of: &bytes) { output in Self.parse(utf8, into: output) }
        } ?? withUnsafeMutableBytes(of: &bytes) { output in Self.parse(Array(text.utf8), into: output) }
        guard parsed else { return nil }
        self.init(uuid: bytes)
    }

    private static func parse(_ text: some Collection<UInt8>, into output: UnsafeMutableRawBufferPointer) -> Bool {
        guard text.count == 36 else { return false }
        var byteIndex = 0
        var high: UInt8?
        for (position, character) in text.enumerated() {
            if position == 8 || position == 13 || position == 18 || position == 23 {
                guard character == UInt8(ascii: "-") else { return false }
                continue
            }
            let nibble: UInt8
            switch character {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = character - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = character - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = character - UInt8(ascii: "A") + 10
            default: return false
            }
            if let first = high {
                output[byteIndex] = first << 4 | nibble
                byteIndex += 1
                high = nil
            } else {
                high = nibble
            }
        }
        return true
    }
}
