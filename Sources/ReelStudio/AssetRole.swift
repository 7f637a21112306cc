/// What an asset is for in its project. Handlers find inputs by role ("the newest clip of
/// scene 2"), so the names are shared between the handler that records and the one that reads.
enum AssetRole: String, Sendable, CaseIterable {
    case hero
    case startFrame = "start_frame"
    case endFrame = "end_frame"
    case storyboard
    case image
    case clip
    case voiceover
    case music
    case soundEffect = "sfx"
    case timeline
    case film
    case preview
    case thumbnail
    case otio
}
