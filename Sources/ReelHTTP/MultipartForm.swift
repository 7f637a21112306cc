/// A `multipart/form-data` body (RFC 7578): text fields and files, in order.
public struct MultipartForm: Sendable {
    public struct Part: Sendable {
        public var name: String
        public var filename: String?
        public var contentType: String?
        public var data: [UInt8]
    }

    public private(set) var parts: [Part] = []
    public let boundary: String

    public init(boundary: String = "reeld-" + String(UInt64.random(in: 1...UInt64.max), radix: 36) + String(UInt64.random(in: 1...UInt64.max), radix: 36)) {
        self.boundary = boundary
    }

    public mutating func addField(_ name: String, _ value: String) {
        parts.append(Part(name: name, filename: nil, contentType: nil, data: Array(value.utf8)))
    }

    public mutating func addFile(_ name: String, filename: String, contentType: String, data: [UInt8]) {
        parts.append(Part(name: name, filename: filename, contentType: contentType, data: data))
    }

    public var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(parts.reduce(0) { $0 + $1.data.count + 200 })
        for part in parts {
            out += Array("--\(boundary)\r\n".utf8)
            var disposition = "Content-Disposition: form-data; name=\"\(Self.quoted(part.name))\""
            if let filename = part.filename { disposition += "; filename=\"\(Self.quoted(filename))\"" }
            out += Array((disposition + "\r\n").utf8)
            if let type = part.contentType { out += Array("Content-Type: \(type)\r\n".utf8) }
            out += Array("\r\n".utf8)
            out += part.data
            out += Array("\r\n".utf8)
        }
        out += Array("--\(boundary)--\r\n".utf8)
        return out
    }

    /// Quotes and line breaks cannot end the parameter early (the HTML form encoding's escapes).
    private static func quoted(_ text: String) -> String {
        text.replacingOccurrences(of: "\"", with: "%22").replacingOccurrences(of: "\r", with: "%0D").replacingOccurrences(of: "\n", with: "%0A")
    }
}

import Foundation
