import CFFmpeg

/// Writes a film's picture packets as they are made, interleaved by time with the sound that
/// `ConcurrentSoundtrack` mixes alongside: a picture packet waits until the sound has caught up
/// with it, so the file never holds long runs of one stream.
final class Interleaver {
    private let file: OutputFile
    private let soundtrack: ConcurrentSoundtrack
    private let sound: PacketQueue
    private let soundStream: UnsafeMutablePointer<AVStream>
    private let pictureStream: UnsafeMutablePointer<AVStream>
    /// The time base picture packets come in.
    private let pictureBase: AVRational
    private var held: [Packet] = []

    init(
        file: OutputFile, soundtrack: ConcurrentSoundtrack, soundStream: UnsafeMutablePointer<AVStream>,
        pictureStream: UnsafeMutablePointer<AVStream>, pictureBase: AVRational
    ) {
        self.file = file
        self.soundtrack = soundtrack
        sound = PacketQueue(timeBase: soundtrack.timeBase)
        self.soundStream = soundStream
        self.pictureStream = pictureStream
        self.pictureBase = pictureBase
    }

    /// Queues a picture packet (a new reference to it) and writes what may be written.
    func add(_ packet: UnsafeMutablePointer<AVPacket>) throws {
        held.append(try Packet(cloning: packet))
        try write(soundDone: false)
    }

    /// Waits for the sound to be complete and writes everything left; returns its loudness.
    func finish() throws -> Double? {
        let loudness = try soundtrack.wait()
        try write(soundDone: true)
        try sound.writeRemaining(to: file, stream: soundStream)
        return loudness
    }

    private func write(soundDone: Bool) throws {
        let (fresh, done) = try soundtrack.take()
        for packet in fresh { sound.append(packet) }
        var written = 0
        defer { held.removeFirst(written) }
        for next in held {
            let dts = next.pointer.pointee.dts
            guard done || soundDone || sound.reaches(dts, in: pictureBase) else { return }
            try sound.write(until: dts, in: pictureBase, to: file, stream: soundStream)
            try file.write(next.pointer, from: pictureBase, to: pictureStream)
            written += 1
        }
    }
}
