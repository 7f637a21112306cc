import ReelLoopbackHTTP

/// A multipart/form-data body split into its parts, as a server reads it.
public struct MultipartParts {
    public struct Part {
        public var name: String
        public var filename: String?
        public var data: [UInt8]
    }

    public var parts: [Part] = []

    public init?(_ request: LoopbackRequest) {
        guard let type = request.header("content-type"), type.hasPrefix("multipart/form-data"),
            let range = type.range(of: "boundary=")
        else { return nil }
        let delimiter = Array(("\r\n--" + type[range.upperBound...]).utf8)
        let body = [13, 10] + request.body  // so the first delimiter has its CRLF too
        var starts: [Int] = []
        var i = 0
        while i + delimiter.count <= body.count {
            if body[i] == delimiter[0], body[i..<(i + delimiter.count)].elementsEqual(delimiter) {
                starts.append(i)
                i += delimiter.count
            } else {
                i += 1
            }
        }
        guard starts.count >= 2 else { return nil }
        for (start, end) in zip(starts, starts.dropFirst()) {
            let chunk = Array(body[(start + delimiter.count + 2)..<end])  // past the delimiter's CRLF
            guard let headEnd = (0..<max(0, chunk.count - 3)).first(where: { chunk[$0] == 13 && chunk[$0 + 1] == 10 && chunk[$0 + 2] == 13 && chunk[$0 + 3] == 10 }) else { return nil }
            let head = String(decoding: chunk[..<headEnd], as: UTF8.self)
            guard let name = Self.parameter("name", in: head) else { return nil }
            parts.append(Part(name: name, filename: Self.parameter("filename", in: head), data: Array(chunk[(headEnd + 4)...])))
        }
    }

    public func text(_ name: String) -> String? {
        parts.first { $0.name == name && $0.filename == nil }.map { String(decoding: $0.data, as: UTF8.self) }
    }

    public func files(_ name: String) -> [Part] { parts.filter { $0.name == name && $0.filename != nil } }

    private static func parameter(_ key: String, in head: String) -> String? {
        guard let range = head.range(of: "; \(key)=\"") else { return nil }
        let rest = head[range.upperBound...]
        return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
    }
}
