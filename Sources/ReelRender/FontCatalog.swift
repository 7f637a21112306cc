import Foundation

/// The fonts overlays may name: the DejaVu faces Debian's fonts-dejavu-core installs (which
/// `.ci/install-deps` lists). Named fonts map to files so renders do not depend on fontconfig's
/// guesses, and a font that is not there fails before rendering rather than falling back.
public struct FontCatalog: Sendable {
    public static let standard = FontCatalog(directory: "/usr/share/fonts/truetype/dejavu")

    /// Family name → file name.
    public static let families: [String: String] = [
        "DejaVu Sans": "DejaVuSans.ttf",
        "DejaVu Sans Bold": "DejaVuSans-Bold.ttf",
        "DejaVu Sans Mono": "DejaVuSansMono.ttf",
        "DejaVu Sans Mono Bold": "DejaVuSansMono-Bold.ttf",
        "DejaVu Serif": "DejaVuSerif.ttf",
        "DejaVu Serif Bold": "DejaVuSerif-Bold.ttf",
    ]

    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    /// The font file for a family name in `families`, if it is installed as a regular file.
    ///
    /// Only the catalog's names: a timeline never chooses a path. FreeType and drawtext open
    /// whatever they are given, and a path could name a FIFO (which blocks the render forever),
    /// a device, or a file the daemon may read but the timeline's author may not.
    public func path(for font: String) -> String? {
        guard let file = Self.families[font] else { return nil }
        let path = (directory as NSString).appendingPathComponent(file)
        guard let type = try? FileManager.default.attributesOfItem(atPath: path)[.type] as? FileAttributeType, type == .typeRegular else {
            return nil
        }
        return FileManager.default.isReadableFile(atPath: path) ? path : nil
    }

    /// Names for error messages.
    public static var knownNames: String { families.keys.sorted().joined(separator: ", ") }
}
