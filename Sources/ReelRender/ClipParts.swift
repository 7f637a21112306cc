import CFFmpeg

/// One clip's decoded pictures handed out in up to three parts — the head the incoming
/// transition plays over, the body, the tail the outgoing transition plays over — each to its
/// own graph source, from a single pass of one decoder.
///
/// The graph asks for a part's frames when it needs them (`xfade` takes a frame of the tail and
/// one of the next clip's head in turn), so the clips are read in step and nothing piles up
/// waiting for the other side of a transition. (Splitting one stream inside the graph instead
/// pushes the whole tail ahead, converted to 4:4:4 for xfade, into link buffers that are never
/// given back — memory that grows with the number of transitions.) A frame read for another
/// part than the one asked for is kept until that part is asked.
final class ClipParts {
    let reader: VideoClipReader
    /// Where each part after the first starts, in seconds from the clip's in point.
    private let boundaries: [Double]
    private var kept: [[Frame]]
    private var ended = false
    private let halfFrame: Double

    init(reader: VideoClipReader, boundaries: [Double]) {
        self.reader = reader
        self.boundaries = boundaries
        kept = Array(repeating: [], count: boundaries.count + 1)
        let rate = reader.frameRate
        halfFrame = 0.5 * Double(rate.den) / Double(rate.num)
    }

    /// The feed for part `index` (0-based, in order).
    func part(_ index: Int) -> any FrameFeed { Part(parts: self, index: index) }

    private func next(for index: Int, into frame: UnsafeMutablePointer<AVFrame>) throws(MediaError) -> Bool {
        if !kept[index].isEmpty {
            // Held until the move is done: the Frame frees its AVFrame when released.
            let waiting = kept[index].removeFirst()
            withExtendedLifetime(waiting) { av_frame_move_ref(frame, waiting.pointer) }
            return true
        }
        let decoded = Frame()
        defer { withExtendedLifetime(decoded) {} }
        while !ended {
            guard try reader.next(into: decoded.pointer) else {
                ended = true
                break
            }
            let seconds = Double(decoded.pointer.pointee.pts) * av_q2d(reader.timeBase)
            let owner = boundaries.lastIndex { seconds >= $0 - halfFrame }.map { $0 + 1 } ?? 0
            let start = owner == 0 ? 0 : boundaries[owner - 1]
            // Each part's timestamps start at 0, as its own source expects.
            decoded.pointer.pointee.pts -= Int64((start / av_q2d(reader.timeBase)).rounded())
            if owner == index {
                av_frame_move_ref(frame, decoded.pointer)
                return true
            }
            let other = Frame()
            av_frame_move_ref(other.pointer, decoded.pointer)
            kept[owner].append(other)
            // A frame of a later part means this one is over.
            if owner > index { return false }
        }
        return false
    }

    private final class Part: FrameFeed {
        let parts: ClipParts
        let index: Int
        init(parts: ClipParts, index: Int) {
            self.parts = parts
            self.index = index
        }
        func next(into frame: UnsafeMutablePointer<AVFrame>) throws(MediaError) -> Bool {
            try parts.next(for: index, into: frame)
        }
    }
}
