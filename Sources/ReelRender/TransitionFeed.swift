import CFFmpeg

/// The frames of one transition, made by `xfade` from the outgoing clip's tail and the
/// incoming clip's head in a small graph of its own that lives only while the transition plays.
///
/// FFmpeg 5.1's xfade works in 4:4:4, so its frames are converted up and back down; libavfilter
/// keeps the buffers each link ever allocated until its graph is freed. In the film's graph that
/// would hold every transition's buffers to the end of the render — memory growing with the
/// number of transitions — so each transition gets its own graph, freed when it is done.
final class TransitionFeed: FrameFeed {
    typealias Build = () throws -> (FilterGraph, UnsafeMutablePointer<AVFilterContext>, [(FilterGraph.Source, any FrameFeed)])

    private let build: Build
    private let control: RenderControl
    private var graph: (FilterGraph, UnsafeMutablePointer<AVFilterContext>, [(FilterGraph.Source, any FrameFeed)])?
    private var done = false
    private let scratch = Frame()

    /// - Parameter build: makes the transition's graph, at its first frame.
    init(control: RenderControl, build: @escaping Build) {
        self.control = control
        self.build = build
    }

    func next(into frame: UnsafeMutablePointer<AVFrame>) throws(MediaError) -> Bool {
        guard !done else { return false }
        do {
            if graph == nil { graph = try build() }
            let (transition, sink, feeds) = graph!
            if try transition.nextFrame(from: sink, feeds: feeds, control: control, into: frame, scratch: scratch.pointer) {
                return true
            }
        } catch let error as MediaError {
            throw error
        } catch {
            // Cancelled: end this feed; the render's own loop sees the cancel at its next frame.
            done = true
            graph = nil
            return false
        }
        done = true
        graph = nil
        return false
    }
}
