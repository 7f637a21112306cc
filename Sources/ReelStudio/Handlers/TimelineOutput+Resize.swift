import ReelCore

extension TimelineOutput {
    /// Sets the height, the width following the aspect ratio (both even, as H.264 4:2:0 needs).
    mutating func resize(toHeight newHeight: Int) {
        guard newHeight != height, height > 0 else { return }
        let evenHeight = max(2, newHeight - newHeight % 2)
        width = max(2, Int((Double(width) * Double(evenHeight) / Double(height) / 2).rounded()) * 2)
        height = evenHeight
    }
}
