/// How much one render or one generated picture may ask of a node, checked before any work
/// starts: a timeline past these is refused by validation, a picture past them by the probe or
/// the provider. They bound memory (a frame's pixels, times the frames a filter graph holds),
/// open files and time; each is far beyond what a studio's film needs.
public enum MediaLimits {
    /// The longest film a timeline may make: 4 hours. (A still clip is held for as long as its
    /// `out` says, so without a bound one clip could ask for days of frames.)
    public static let filmSeconds = 4 * 3600.0
    /// Clips on the video track.
    public static let clips = 500
    /// Text overlays (each is one or more `drawtext` filters over every frame).
    public static let overlays = 200
    /// Voice lines and sound effects together.
    public static let sounds = 500
    /// Pixels in one output frame: DCI 4K, 4096 × 2160 (4K UHD, 3840 × 2160, fits).
    public static let outputPixels = 4096 * 2160
    /// Pixels in one input picture (a clip's frame, a still, a generated image): 4096 × 4096,
    /// 16.8 MP, which is 50 MB as RGB. Larger inputs are refused before they are decoded.
    public static let picturePixels = 4096 * 4096
}
