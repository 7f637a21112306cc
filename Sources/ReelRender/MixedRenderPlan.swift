import ReelCore

/// Which frames of the film the mixed path copies from its clips and which it re-encodes,
/// worked out in whole output frames from the timeline's layout.
///
/// Re-encoded: every transition (the tail of the clip before and the head of the clip after,
/// which the layout lays over each other), every overlay while it shows (a frame either side
/// too, so float rounding of `drawtext`'s enable time cannot put the edge of a segment under
/// it), and every clip that cannot be copied at all. The rest of each clip is copied from its
/// first keyframe on — a copied span must open with a keyframe, so the segment before it
/// stretches to the keyframe — up to the frames the source actually holds. A span shorter
/// than `minimumCopy` frames is re-encoded too: joining it costs more than it saves.
///
/// Copied spans may end anywhere only because their clips have no reordered frames (the
/// caller checks); every re-encoded segment starts with a fresh encoder, hence an IDR picture.
struct MixedRenderPlan: Equatable {
    /// A run of film frames, all copied from one clip or all re-encoded.
    enum Piece: Equatable {
        /// Film frames `film` are clip `clip`'s own frames from `clipFrame` on (counted from its in point).
        case copy(clip: Int, film: Range<Int>, clipFrame: Int)
        /// Film frames `film` are rendered (decoded, filtered, encoded).
        case encode(film: Range<Int>)

        var film: Range<Int> {
            switch self {
            case .copy(_, let film, _), .encode(let film): film
            }
        }
    }

    /// What planning knows of one clip.
    struct Clip: Equatable {
        /// Its picture can be copied into the output (codec, shape and headers match the segments').
        var copyable: Bool
        /// Keyframes, as frame numbers from the clip's in point, ascending.
        var keyframes: [Int]
        /// Frames the source holds from the in point up to the out point (fewer than the
        /// layout's when the file ends early and the render holds its last frame).
        var frames: Int
    }

    let pieces: [Piece]
    let totalFrames: Int

    var copiedFrames: Int {
        pieces.reduce(0) { sum, piece in
            if case .copy(_, let film, _) = piece { return sum + film.count }
            return sum
        }
    }

    var copiedFraction: Double { totalFrames > 0 ? Double(copiedFrames) / Double(totalFrames) : 0 }

    init(layout: TimelineLayout, overlays: [Range<Int>], clips: [Clip], minimumCopy: Int) {
        let total = layout.totalFrames
        totalFrames = total
        var encode = [Bool](repeating: false, count: total)
        func mark(_ range: Range<Int>) {
            let clamped = range.clamped(to: 0..<total)
            for n in clamped { encode[n] = true }
        }
        for i in layout.clipFrames.indices {
            let start = layout.startFrames[i]
            if !clips[i].copyable { mark(start..<start + layout.clipFrames[i]) }
            if layout.transitionFrames[i] > 0, i + 1 < layout.startFrames.count {
                let next = layout.startFrames[i + 1]
                mark(next..<next + layout.transitionFrames[i])
            }
        }
        for range in overlays { mark(range) }

        var copies: [Piece] = []
        for i in layout.clipFrames.indices where clips[i].copyable {
            let start = layout.startFrames[i]
            let end = start + min(layout.clipFrames[i], clips[i].frames)
            var n = start
            while n < end {
                guard !encode[n] else {
                    n += 1
                    continue
                }
                var runEnd = n
                while runEnd < end, !encode[runEnd] { runEnd += 1 }
                // The span opens at the clip's first keyframe inside the free run.
                if let key = clips[i].keyframes.first(where: { $0 >= n - start }), start + key < runEnd, runEnd - (start + key) >= minimumCopy {
                    copies.append(.copy(clip: i, film: (start + key)..<runEnd, clipFrame: key))
                }
                n = runEnd
            }
        }
        var pieces: [Piece] = []
        var position = 0
        for copy in copies.sorted(by: { $0.film.lowerBound < $1.film.lowerBound }) {
            if copy.film.lowerBound > position { pieces.append(.encode(film: position..<copy.film.lowerBound)) }
            pieces.append(copy)
            position = copy.film.upperBound
        }
        if position < total { pieces.append(.encode(film: position..<total)) }
        self.pieces = pieces
    }

    /// The film frames on which `overlay` shows (`drawtext` enables it while start ≤ t < end,
    /// t = n / fps), widened by a frame each way.
    static func frames(of overlay: TextOverlay, fps: Double) -> Range<Int> {
        let first = Int((overlay.start * fps).rounded(.down)) - 1
        let last = Int((overlay.end * fps).rounded(.up)) + 1
        return max(0, first)..<max(0, last)
    }
}
