/// One editing operation on a timeline, as the editor sends it (`{"op": "split", "clip": "s2", "at": 7.5}`).
public enum TimelineEdit: Sendable, Hashable, Codable {
    /// Cuts clip `clip` in two at film time `at` (the playhead); the second half gets id `newID`
    /// (default `<clip>-b`) and the clip's outgoing transition, the cut between the halves is hard.
    case split(clip: String, at: Double, newID: String?)
    /// Moves clip `clip`'s in and/or out point (asset time); nil leaves that end as it is.
    case trim(clip: String, inPoint: Double?, outPoint: Double?)
    /// Moves clip `clip` to position `to` (0-based, counted after it is taken out). It keeps
    /// its outgoing transition unless it lands last.
    case move(clip: String, to: Int)
    /// Removes clip `clip`; the clip before it keeps its transition into whatever follows now.
    case delete(clip: String)
    /// Inserts `clip` at position `at` (0…count).
    case insert(clip: TimelineClip, at: Int)

    enum CodingKeys: String, CodingKey, CaseIterable {
        case op, clip, at, newID = "new_id", inPoint = "in", outPoint = "out", to
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        switch try c.decode(String.self, forKey: .op) {
        case "split":
            self = .split(clip: try c.decode(String.self, forKey: .clip), at: try c.decode(Double.self, forKey: .at),
                          newID: try c.decodeIfPresent(String.self, forKey: .newID))
        case "trim":
            self = .trim(clip: try c.decode(String.self, forKey: .clip), inPoint: try c.decodeIfPresent(Double.self, forKey: .inPoint),
                         outPoint: try c.decodeIfPresent(Double.self, forKey: .outPoint))
        case "move":
            self = .move(clip: try c.decode(String.self, forKey: .clip), to: try c.decode(Int.self, forKey: .to))
        case "delete":
            self = .delete(clip: try c.decode(String.self, forKey: .clip))
        case "insert":
            self = .insert(clip: try c.decode(TimelineClip.self, forKey: .clip), at: try c.decode(Int.self, forKey: .at))
        case let other:
            throw DecodingError.dataCorruptedError(
                forKey: .op, in: c, debugDescription: "unknown operation \"\(other)\"; expected split, trim, move, delete or insert")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case let .split(clip, at, newID):
            try c.encode("split", forKey: .op)
            try c.encode(clip, forKey: .clip)
            try c.encode(at, forKey: .at)
            try c.encodeIfPresent(newID, forKey: .newID)
        case let .trim(clip, inPoint, outPoint):
            try c.encode("trim", forKey: .op)
            try c.encode(clip, forKey: .clip)
            try c.encodeIfPresent(inPoint, forKey: .inPoint)
            try c.encodeIfPresent(outPoint, forKey: .outPoint)
        case let .move(clip, to):
            try c.encode("move", forKey: .op)
            try c.encode(clip, forKey: .clip)
            try c.encode(to, forKey: .to)
        case let .delete(clip):
            try c.encode("delete", forKey: .op)
            try c.encode(clip, forKey: .clip)
        case let .insert(clip, at):
            try c.encode("insert", forKey: .op)
            try c.encode(clip, forKey: .clip)
            try c.encode(at, forKey: .at)
        }
    }
}
