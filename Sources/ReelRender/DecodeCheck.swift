import CFFmpeg
import Foundation

/// Decodes a file's whole picture to prove it plays: how many frames come out, and how many
/// the decoder had to patch up (concealed errors, missing references). A join of two streams
/// that one decoder cannot run through shows up as lost or damaged frames.
enum DecodeCheck {
    struct Result {
        var frames: Int
        var damaged: Int
    }

    /// - Parameter perFrame: called after each frame (progress).
    static func frames(of url: URL, threads: Int, control: RenderControl, perFrame: () -> Void = {}) throws -> Result {
        let input = try InputFile(url)
        let stream = try input.bestStream(AVMEDIA_TYPE_VIDEO)
        input.readOnly(stream)
        let decoder = try Decoder(stream: stream, path: input.path, threads: threads)
        var result = Result(frames: 0, damaged: 0)
        let count: (UnsafeMutablePointer<AVFrame>) throws -> Void = { frame in
            result.frames += 1
            if frame.pointee.decode_error_flags != 0 || (frame.pointee.flags & AV_FRAME_FLAG_CORRUPT) != 0 { result.damaged += 1 }
            perFrame()
        }
        let packet = Packet()
        while try input.readPacket(into: packet.pointer) {
            defer { av_packet_unref(packet.pointer) }
            try control.checkCancelled()
            guard packet.pointer.pointee.stream_index == stream.pointee.index else { continue }
            do {
                try decoder.decode(packet.pointer, count)
            } catch let error as MediaError where error.operation == .decode {
                // A packet the decoder refuses is a broken join, not a reason to stop looking.
                result.damaged += 1
            }
        }
        try decoder.decode(nil, count)
        return result
    }
}
