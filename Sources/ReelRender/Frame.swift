import CFFmpeg

/// An owned `AVFrame`.
final class Frame {
    let pointer: UnsafeMutablePointer<AVFrame>
    init() { pointer = av_frame_alloc() }
    deinit {
        var p: UnsafeMutablePointer<AVFrame>? = pointer
        av_frame_free(&p)
    }

    /// A video frame with its own buffers.
    static func video(width: Int, height: Int, format: AVPixelFormat, path: String?) throws(MediaError) -> Frame {
        let frame = Frame()
        frame.pointer.pointee.width = Int32(width)
        frame.pointer.pointee.height = Int32(height)
        frame.pointer.pointee.format = format.rawValue
        try check(av_frame_get_buffer(frame.pointer, 0), .encode, path: path, "allocating a \(width)x\(height) frame")
        return frame
    }

    var data: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?> { reel_frame_data(pointer) }
    var linesize: UnsafeMutablePointer<Int32> { reel_frame_linesize(pointer) }
}
