/// The transitions libavfilter's `xfade` draws (FFmpeg 5.1's set, without `custom`); the raw
/// value is xfade's own name.
public enum TransitionType: String, Sendable, Hashable, Codable, CaseIterable {
    case fade, wipeleft, wiperight, wipeup, wipedown, slideleft, slideright, slideup, slidedown
    case circlecrop, rectcrop, distance, fadeblack, fadewhite, radial
    case smoothleft, smoothright, smoothup, smoothdown, circleopen, circleclose
    case vertopen, vertclose, horzopen, horzclose, dissolve, pixelize
    case diagtl, diagtr, diagbl, diagbr, hlslice, hrslice, vuslice, vdslice
    case hblur, fadegrays, wipetl, wipetr, wipebl, wipebr, squeezeh, squeezev, zoomin, fadefast, fadeslow

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let name = try c.decode(String.self)
        guard let type = TransitionType(rawValue: name) else {
            throw DecodingError.dataCorruptedError(
                in: c, debugDescription: "unknown transition \"\(name)\"; expected one of xfade's: "
                    + TransitionType.allCases.map(\.rawValue).joined(separator: ", "))
        }
        self = type
    }

    /// The OpenTimelineIO transition type: OTIO names only the dissolve; the rest are custom.
    var openTimelineIOType: String { self == .fade || self == .dissolve ? "SMPTE_Dissolve" : "Custom_Transition" }
}
