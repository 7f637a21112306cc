import ReelCore

extension StreamFacts {
    /// Why this video stream's pictures cannot go into `output`'s picture as they are, encoded
    /// with `codec` (codec, size, frame rate, pixel format), or nil when they can: what stream
    /// copy needs, and what makes a clip need no normalising.
    func pictureMismatch(codec: String, output: TimelineOutput) -> String? {
        if codecName != codec { return "is \(codecName), not \(codec)" }
        if width != output.width || height != output.height {
            return "is \(width ?? 0)x\(height ?? 0), not \(output.width)x\(output.height)"
        }
        guard let fps = framesPerSecond, abs(fps - output.fps) < 0.01 else {
            return "runs at \(framesPerSecond.map { String($0) } ?? "an unknown rate") fps, not \(output.fps)"
        }
        if pixelFormat != "yuv420p" { return "is \(pixelFormat ?? "an unknown pixel format"), not yuv420p" }
        return nil
    }
}
