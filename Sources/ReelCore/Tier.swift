/// A subscription tier, as in `public.tier`: what a user may run at once, how fast, how many
/// credits a month and how large an export.
public enum Tier: String, Sendable, Codable, CaseIterable, Comparable {
    case free
    case pro
    case enterprise

    public static func < (a: Self, b: Self) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}
