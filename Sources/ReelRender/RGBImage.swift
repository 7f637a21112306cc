/// A picture as packed 8-bit RGB (RGB24), rows top to bottom, no padding.
public struct RGBImage: Sendable, Hashable {
    public let width: Int
    public let height: Int
    /// `width * height * 3` bytes: R, G, B for each pixel.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width > 0 && height > 0 && pixels.count == width * height * 3, "RGBImage needs width*height*3 bytes")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// A picture filled with one colour.
    public init(width: Int, height: Int, red: UInt8, green: UInt8, blue: UInt8) {
        precondition(width > 0 && height > 0)
        self.width = width
        self.height = height
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for i in stride(from: 0, to: pixels.count, by: 3) {
            pixels[i] = red
            pixels[i + 1] = green
            pixels[i + 2] = blue
        }
        self.pixels = pixels
    }

    /// The mean absolute difference per channel, 0 (identical) to 255; both images must be the same size.
    public func meanAbsoluteDifference(to other: RGBImage) -> Double {
        precondition(width == other.width && height == other.height, "compare images of the same size")
        var total = 0
        pixels.withUnsafeBufferPointer { a in
            other.pixels.withUnsafeBufferPointer { b in
                for i in 0..<a.count { total &+= abs(Int(a[i]) - Int(b[i])) }
            }
        }
        return Double(total) / Double(pixels.count)
    }
}
