import CFFmpeg

/// Something that hands a filter graph source its frames one at a time: a clip's decoder, a
/// sound's decoder, a computed envelope.
protocol FrameFeed: AnyObject {
    /// Moves the next frame into `frame` (unreferenced on entry); false when there are no more.
    func next(into frame: UnsafeMutablePointer<AVFrame>) throws(MediaError) -> Bool
}

extension VideoClipReader: FrameFeed {}
extension AudioClipReader: FrameFeed {}

extension FilterGraph {
    /// Runs the graph until `sink` ends, feeding each source from its feed when the graph asks
    /// for it and handing every frame that comes out to `body` (the frame is unreferenced after).
    /// Checks `control` between frames, so a cancel stops it within a frame's work.
    func run(
        sink: UnsafeMutablePointer<AVFilterContext>, feeds: [(Source, any FrameFeed)], control: RenderControl,
        _ body: (UnsafeMutablePointer<AVFrame>) throws -> Void
    ) throws {
        let output = Frame()
        let input = Frame()
        while try nextFrame(from: sink, feeds: feeds, control: control, into: output.pointer, scratch: input.pointer) {
            defer { av_frame_unref(output.pointer) }
            try body(output.pointer)
        }
    }

    /// Moves the graph's next output frame into `frame`, feeding sources as it asks (through
    /// `scratch`, an unreferenced frame); false once `sink` has ended.
    func nextFrame(
        from sink: UnsafeMutablePointer<AVFilterContext>, feeds: [(Source, any FrameFeed)], control: RenderControl,
        into frame: UnsafeMutablePointer<AVFrame>, scratch: UnsafeMutablePointer<AVFrame>
    ) throws -> Bool {
        while true {
            try control.checkCancelled()
            switch try pull(sink, into: frame) {
            case .frame:
                return true
            case .finished:
                return false
            case .needsInput:
                guard let source = Self.next(among: feeds.map(\.0)), let feed = feeds.first(where: { $0.0 === source })?.1 else {
                    throw MediaError(.encode, path: nil, message: "\(name): the graph wants input but every source has ended")
                }
                if try feed.next(into: scratch) {
                    try push(scratch, to: source)
                } else {
                    try finish(source)
                }
            }
        }
    }
}
