/// The kind of file an asset holds; `public.assets.kind` allows exactly these.
enum AssetKind: String, Sendable, CaseIterable {
    case text
    case image
    case video
    case audio
    case timeline
    case export
}
