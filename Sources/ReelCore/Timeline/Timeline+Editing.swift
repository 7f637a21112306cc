extension Timeline {
    /// The timeline after `edit`, validated against `assets`: an edit that names no such clip,
    /// or leaves anything invalid (a transition longer than a trimmed clip, an overlay past the
    /// new end), throws and changes nothing.
    public func applying(_ edit: TimelineEdit, assets: [String: TimelineAsset]) throws(TimelineInvalid) -> Timeline {
        var next = self
        switch edit {
        case let .split(id, at, newID):
            let i = try index(of: id, for: "split")
            let clip = video[i]
            let layout = self.layout
            let start = layout.start(i)
            let element = "video[\(i)] \"\(id)\""
            // The cut must fall where the clip plays alone (not inside a transition with a
            // neighbour), and leave both halves at least a frame.
            let frame = 1 / layout.fps
            let length = layout.seconds(layout.clipFrames[i])
            let aloneFrom = start + layout.seconds(layout.incomingFrames(i))
            let aloneTo = start + length - layout.seconds(layout.transitionFrames[i])
            let tolerance = 1e-9
            guard at >= aloneFrom - tolerance, at <= aloneTo + tolerance, at >= start + frame - tolerance, at <= start + length - frame + tolerance else {
                throw TimelineInvalid(element: element, "cannot split at \(formatNumber(at)) s: the clip plays alone from \(formatNumber(aloneFrom)) to \(formatNumber(aloneTo)) s")
            }
            let cut = clip.inPoint + (at - start)
            var first = clip
            first.outPoint = cut
            first.transition = nil
            var second = clip
            second.id = newID ?? "\(id)-b"
            second.inPoint = cut
            next.video[i] = first
            next.video.insert(second, at: i + 1)
        case let .trim(id, inPoint, outPoint):
            let i = try index(of: id, for: "trim")
            if let inPoint { next.video[i].inPoint = inPoint }
            if let outPoint { next.video[i].outPoint = outPoint }
        case let .move(id, to):
            let i = try index(of: id, for: "move")
            guard (0..<video.count).contains(to) else {
                throw TimelineInvalid(element: "video[\(i)] \"\(id)\"", "cannot move to position \(to): positions are 0–\(video.count - 1)")
            }
            let clip = next.video.remove(at: i)
            next.video.insert(clip, at: to)
        case let .delete(id):
            let i = try index(of: id, for: "delete")
            next.video.remove(at: i)
        case let .insert(clip, at):
            guard (0...video.count).contains(at) else {
                throw TimelineInvalid(element: "video", "cannot insert at position \(at): positions are 0–\(video.count)")
            }
            next.video.insert(clip, at: at)
        }
        // The last clip has nothing to transition into.
        if !next.video.isEmpty { next.video[next.video.count - 1].transition = nil }
        try next.validate(assets: assets)
        return next
    }

    /// Applies edits in order; the first that fails throws, naming its position.
    public func applying(_ edits: [TimelineEdit], assets: [String: TimelineAsset]) throws(TimelineInvalid) -> Timeline {
        var timeline = self
        for (n, edit) in edits.enumerated() {
            do {
                timeline = try timeline.applying(edit, assets: assets)
            } catch {
                throw TimelineInvalid(error.problems.map { TimelineProblem(element: "edits[\(n)]: \($0.element)", message: $0.message) })
            }
        }
        return timeline
    }

    private func index(of id: String, for operation: String) throws(TimelineInvalid) -> Int {
        guard let i = clipIndex(id) else { throw TimelineInvalid(element: "video", "cannot \(operation) clip \"\(id)\": no such clip") }
        return i
    }
}
