import Foundation
import ReelCore

/// Splits a `/with-timestamps` answer, already streamed to a file, into the audio file and the
/// rest of the JSON. The audio is base64 inside the JSON (`audio_base64`) and makes up nearly
/// all of it: it is decoded piece by piece from the memory-mapped file into the audio file, and
/// only what remains (the alignment arrays, a few bytes per character) is parsed, so a long
/// speech is never held whole in memory.
enum ElevenLabsTimestampedAudio {
    /// What is wrong with the answer, for ``ElevenLabsFailure/malformed(_:requestID:)``.
    struct Malformed: Error {
        var reason: String
    }

    /// The spellings of the audio's key: the documented one first; SDK and camel-case renderings
    /// of it are accepted too, from servers written after the SDKs rather than the wire.
    static let audioKeys = ["audio_base64", "audio_base_64", "audioBase64"]

    /// Base64 characters decoded per write: a multiple of 4, so every piece decodes on its own.
    static let piece = 256 << 10

    /// Writes the decoded audio to `audio` and returns the answer's other fields. Throws
    /// ``Malformed`` when the file is not a JSON object with base64 audio in it.
    static func split(_ answer: URL, audio: URL) throws -> JSONValue {
        let bytes: Data
        do {
            bytes = try Data(contentsOf: answer, options: .alwaysMapped)
        } catch {
            throw Malformed(reason: "the answer could not be read back: \(error.localizedDescription)")
        }
        return try bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) throws -> JSONValue in
            let all = raw.bindMemory(to: UInt8.self)
            guard let (keyStart, valueStart) = audioValue(in: all) else {
                // Either not JSON at all or JSON without the audio: say which.
                // (A large answer without the key is not what the API sends: not parsed whole.)
                if all.count < 1 << 20, (try? JSONValue(parsing: all)) != nil { throw Malformed(reason: "no audio_base64") }
                throw Malformed(reason: "not JSON (\(all.count) bytes)")
            }
            let valueEnd = try decode(all, from: valueStart, into: audio)
            // The rest of the object, with the audio's key and value left out: `{…, "a": 1}`
            // stays valid JSON whether the audio came first, last or between other fields.
            var rest = Array(all[..<keyStart])
            rest += Array("\"audio_base64\":null".utf8)
            rest += Array(all[(valueEnd + 1)...])
            guard let json = try? JSONValue(parsing: rest), json.objectValue != nil else {
                try? FileManager.default.removeItem(at: audio)
                throw Malformed(reason: "not JSON (\(all.count) bytes)")
            }
            return json
        }
    }

    /// The offset of the audio's key (its opening quote) and of its string value's first
    /// character, or nil. The other fields hold single characters and numbers, so the key's
    /// spelling followed by `:` and a string cannot occur inside them.
    private static func audioValue(in bytes: UnsafeBufferPointer<UInt8>) -> (Int, Int)? {
        for key in audioKeys {
            let needle = Array("\"\(key)\"".utf8)
            var start = 0
            while let found = firstIndex(of: needle, in: bytes, from: start) {
                var index = found + needle.count
                index = skipSpace(bytes, index)
                if index < bytes.count, bytes[index] == UInt8(ascii: ":") {
                    index = skipSpace(bytes, index + 1)
                    if index < bytes.count, bytes[index] == UInt8(ascii: "\"") { return (found, index + 1) }
                }
                start = found + 1
            }
        }
        return nil
    }

    /// Decodes the JSON string starting at `start` as base64 into `file`; returns the offset of
    /// its closing quote. JSON may escape `/` as `\/` and break lines with `\n`; nothing else
    /// belongs in base64.
    private static func decode(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, into file: URL) throws -> Int {
        guard FileManager.default.createFile(atPath: file.path, contents: nil), let handle = try? FileHandle(forWritingTo: file) else {
            throw Malformed(reason: "the audio file could not be created")
        }
        var done = false
        defer {
            try? handle.close()
            if !done { try? FileManager.default.removeItem(at: file) }
        }
        var pending: [UInt8] = []
        pending.reserveCapacity(piece + 4)
        var written = 0
        func flush(_ count: Int) throws {
            guard count > 0 else { return }
            guard let data = Data(base64Encoded: Data(pending[..<count])) else { throw Malformed(reason: "audio_base64 is not base64 audio") }
            do { try handle.write(contentsOf: data) } catch { throw Malformed(reason: "the audio could not be written: \(error.localizedDescription)") }
            written += data.count
            pending.removeFirst(count)
        }
        var index = start
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                try flush(pending.count)
                guard written > 0 else { throw Malformed(reason: "audio_base64 is empty") }
                done = true
                return index
            case UInt8(ascii: "\\"):
                guard index + 1 < bytes.count else { throw Malformed(reason: "not JSON (a string cut short)") }
                switch bytes[index + 1] {
                case UInt8(ascii: "/"): pending.append(UInt8(ascii: "/"))
                case UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"): break
                default: throw Malformed(reason: "audio_base64 is not base64 audio")
                }
                index += 2
                continue
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "+"), UInt8(ascii: "/"), UInt8(ascii: "="):
                pending.append(byte)
            default:
                throw Malformed(reason: "audio_base64 is not base64 audio")
            }
            if pending.count >= piece { try flush(piece) }
            index += 1
        }
        throw Malformed(reason: "not JSON (the audio string is cut short)")
    }

    private static func skipSpace(_ bytes: UnsafeBufferPointer<UInt8>, _ from: Int) -> Int {
        var index = from
        while index < bytes.count, [UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t")].contains(bytes[index]) { index += 1 }
        return index
    }

    private static func firstIndex(of needle: [UInt8], in bytes: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
        guard let first = needle.first, bytes.count >= needle.count else { return nil }
        var index = from
        while index <= bytes.count - needle.count {
            if bytes[index] == first, needle.indices.allSatisfy({ bytes[index + $0] == needle[$0] }) { return index }
            index += 1
        }
        return nil
    }
}
