/// Just enough of H.264's two byte-stream layouts to join encoded and copied pictures in one
/// MP4 track: codec headers compared by their parameter sets, and encoder output rewritten the
/// way MP4 stores it.
///
/// libx264 writes Annex B (NAL units after `00 00 01` start codes), headers and pictures alike;
/// an MP4 holds its headers in an `avcC` box and its pictures as length-prefixed NAL units. The
/// muxer converts on its own only when the whole track is Annex B, so a track of copied MP4
/// packets and freshly encoded ones needs the encoded ones converted here.
enum H264Bitstream {
    /// A stream's sequence and picture parameter sets, whatever layout its extradata uses.
    struct ParameterSets: Equatable {
        var sequence: [[UInt8]] = []
        var picture: [[UInt8]] = []
        /// Bytes in each NAL unit's length prefix (from `avcC`; 4 for Annex B, which MP4 then uses).
        var lengthSize = 4

        /// Nil when `extradata` is empty or neither layout, or holds no parameter sets.
        init?(extradata: [UInt8]) {
            if extradata.first == 1 {
                guard let parsed = Self.avcC(extradata) else { return nil }
                self = parsed
            } else {
                for unit in H264Bitstream.annexBUnits(extradata) {
                    switch unit.first.map({ $0 & 0x1f }) {
                    case 7: sequence.append(unit)
                    case 8: picture.append(unit)
                    default: break
                    }
                }
            }
            if sequence.isEmpty || picture.isEmpty { return nil }
        }

        private init() {}

        /// ISO/IEC 14496-15's AVCDecoderConfigurationRecord: version, profile, compatibility,
        /// level, length size, then a count of SPS and of PPS, each unit after a 16-bit length.
        private static func avcC(_ bytes: [UInt8]) -> ParameterSets? {
            guard bytes.count >= 7 else { return nil }
            var sets = ParameterSets()
            sets.lengthSize = Int(bytes[4] & 0x03) + 1
            var at = 5
            func units(count: Int) -> [[UInt8]]? {
                var found: [[UInt8]] = []
                for _ in 0..<count {
                    guard at + 2 <= bytes.count else { return nil }
                    let length = Int(bytes[at]) << 8 | Int(bytes[at + 1])
                    at += 2
                    guard at + length <= bytes.count else { return nil }
                    found.append(Array(bytes[at..<at + length]))
                    at += length
                }
                return found
            }
            let sequenceCount = Int(bytes[at] & 0x1f)
            at += 1
            guard let sequence = units(count: sequenceCount), at < bytes.count else { return nil }
            let pictureCount = Int(bytes[at])
            at += 1
            guard let picture = units(count: pictureCount) else { return nil }
            sets.sequence = sequence
            sets.picture = picture
            return sets
        }
    }

    /// Whether `bytes` begin with an Annex B start code.
    static func isAnnexB(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        (bytes.count >= 3 && bytes[0] == 0 && bytes[1] == 0 && bytes[2] == 1)
            || (bytes.count >= 4 && bytes[0] == 0 && bytes[1] == 0 && bytes[2] == 0 && bytes[3] == 1)
    }

    /// The NAL units of an Annex B byte stream, without their start codes.
    static func annexBUnits(_ bytes: [UInt8]) -> [[UInt8]] {
        bytes.withUnsafeBufferPointer { annexBRanges($0) }.map { Array(bytes[$0]) }
    }

    /// Where each NAL unit of an Annex B byte stream lies (start codes and the zeros before
    /// them excluded).
    static func annexBRanges(_ bytes: UnsafeBufferPointer<UInt8>) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var start: Int?
        var i = 0
        let n = bytes.count
        while i + 2 < n {
            if bytes[i] == 0, bytes[i + 1] == 0, bytes[i + 2] == 1 {
                if let s = start {
                    var end = i
                    while end > s, bytes[end - 1] == 0 { end -= 1 }
                    ranges.append(s..<end)
                }
                i += 3
                start = i
            } else {
                i += 1
            }
        }
        if let s = start, s < n { ranges.append(s..<n) }
        return ranges.filter { !$0.isEmpty }
    }

    /// `bytes` (Annex B) as MP4 stores a picture: each NAL unit after a big-endian length of
    /// `lengthSize` bytes.
    static func lengthPrefixed(_ bytes: UnsafeBufferPointer<UInt8>, lengthSize: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 16)
        for range in annexBRanges(bytes) {
            let length = range.count
            for shift in stride(from: (lengthSize - 1) * 8, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: length >> shift)) }
            out.append(contentsOf: bytes[range])
        }
        return out
    }
}
