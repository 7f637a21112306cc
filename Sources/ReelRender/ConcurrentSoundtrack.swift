import CFFmpeg
import Foundation
import ReelBlocking
import ReelCore

/// Mixes and encodes a timeline's soundtrack on another thread of the blocking pool while the
/// picture renders, handing the encoded packets over as they come.
///
/// The mix, its loudness passes and above all libav's AAC encoder take a few seconds of one
/// core for a short film; done first, that would all be wall time before the first picture.
/// Alongside the picture it uses what the video encoder's threads leave of the machine.
final class ConcurrentSoundtrack: @unchecked Sendable {
    // @unchecked: `packets`, `finished`, `failure` and `loudness` are only touched under
    // `condition`; `encoder` is handed to the thread at start and used by nobody else after.
    private let condition = NSCondition()
    private var packets: [Packet] = []
    private var finished = false
    private var failure: (any Error)?
    private var loudness: Double?
    private let encoder: Encoder
    /// Stops the thread early when the picture fails.
    let control: RenderControl
    let timeBase: AVRational

    /// Starts mixing on `blocking` (at once when it has a free thread). `encoder` must already be
    /// open (its stream added to the output).
    init(
        timeline: Timeline, media: [String: URL], facts: [String: MediaFacts], threads: Int, encoder: Encoder, control: RenderControl,
        blocking: BlockingPool
    ) {
        self.encoder = encoder
        self.control = control
        timeBase = encoder.context.pointee.time_base
        // The blocking pool rather than a task: libav blocks.
        blocking.submit { [self] in
            do {
                let mixer = SoundtrackMixer(timeline: timeline, media: media, facts: facts, threads: 1, control: control)
                let reached = try mixer.encodedSoundtrack(with: self.encoder) { packet in
                    let copy = try Packet(cloning: packet)
                    self.condition.lock()
                    self.packets.append(copy)
                    self.condition.broadcast()
                    self.condition.unlock()
                }
                self.end(loudness: reached, failure: nil)
            } catch {
                self.end(loudness: nil, failure: error)
            }
        }
    }

    private func end(loudness: Double?, failure: (any Error)?) {
        condition.lock()
        self.loudness = loudness
        self.failure = failure
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    /// The packets made since the last call, and whether the soundtrack is complete.
    func take() throws -> (packets: [Packet], done: Bool) {
        condition.lock()
        defer { condition.unlock() }
        if let failure { throw failure }
        let taken = packets
        packets.removeAll()
        return (taken, finished)
    }

    /// Waits for the soundtrack to be complete; returns the loudness it reached.
    func wait() throws -> Double? {
        condition.lock()
        defer { condition.unlock() }
        while !finished { condition.wait() }
        if let failure { throw failure }
        return loudness
    }
}
