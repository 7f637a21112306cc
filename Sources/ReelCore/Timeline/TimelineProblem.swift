/// One thing wrong with a timeline, naming the element: `video[2] "s3"`, `overlays[0] "title"`,
/// `audio.music`, `output.fps`.
public struct TimelineProblem: Sendable, Hashable, CustomStringConvertible {
    public var element: String
    public var message: String

    public init(element: String, message: String) {
        self.element = element
        self.message = message
    }

    public var description: String { "\(element): \(message)" }
}
