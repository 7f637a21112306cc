import Foundation

extension Timeline {
    /// Decodes a timeline from JSON text. Malformed JSON, a wrong type, a missing field or an
    /// unknown key throws `TimelineInvalid` naming the element (`video[2].transition.type`).
    /// The values are not yet checked against each other or the assets: see `validate(assets:)`.
    public init(json: some DataProtocol) throws(TimelineInvalid) {
        do {
            self = try JSONDecoder().decode(Timeline.self, from: Data(json))
        } catch let error as DecodingError {
            throw TimelineInvalid([Self.problem(from: error)])
        } catch {
            throw TimelineInvalid(element: "timeline", "not JSON: \(error)")
        }
    }

    /// Pretty-printed JSON with sorted keys, the form stored and documented.
    public var jsonData: Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // Every field is a plain number, string, array or object: encoding cannot fail.
        return try! encoder.encode(self)
    }

    /// The timeline as a `JSONValue`, for job results and the OTIO metadata.
    public var jsonValue: JSONValue {
        // Round-tripping our own encoding cannot fail.
        try! JSONValue(parsing: jsonData)
    }

    static func problem(from error: DecodingError) -> TimelineProblem {
        switch error {
        case .typeMismatch(let type, let context):
            return TimelineProblem(element: path(context.codingPath), message: "expected \(describe(type))")
        case .valueNotFound(let type, let context):
            return TimelineProblem(element: path(context.codingPath), message: "expected \(describe(type)), found null")
        case .keyNotFound(let key, let context):
            return TimelineProblem(element: path(context.codingPath + [key]), message: "required")
        case .dataCorrupted(let context):
            let message = context.codingPath.isEmpty ? "not valid JSON" : context.debugDescription
            return TimelineProblem(element: path(context.codingPath), message: message)
        @unknown default:
            return TimelineProblem(element: "timeline", message: "\(error)")
        }
    }

    /// `video[2].transition.type` from a coding path.
    static func path(_ keys: [any CodingKey]) -> String {
        var text = ""
        for key in keys {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += (text.isEmpty ? "" : ".") + key.stringValue
            }
        }
        return text.isEmpty ? "timeline" : text
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is Double.Type: "a number"
        case is Int.Type: "an integer"
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        default: type is any Collection.Type ? "an array" : "an object"
        }
    }
}
