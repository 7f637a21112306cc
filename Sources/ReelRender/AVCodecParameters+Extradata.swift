import CFFmpeg

extension AVCodecParameters {
    /// The codec's global headers (H.264's avcC with its SPS and PPS, AAC's AudioSpecificConfig):
    /// two streams join by stream copy only when these are byte for byte the same.
    var extradataBytes: [UInt8] {
        guard let data = extradata, extradata_size > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: Int(extradata_size)))
    }
}
