/// The studio's eight steps from an idea to a finished film, in order.
/// The same names are the `reeld.workflow_step` enum in SQL.
public enum WorkflowStep: String, Sendable, Codable, CaseIterable, Comparable {
    case idea
    case storyboard
    case heroShot = "hero_shot"
    case frames
    case clips
    case audio
    case edit
    case export

    public static func < (a: Self, b: Self) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// The step after this one, or nil after export.
    public var next: WorkflowStep? {
        let all = Self.allCases
        let i = all.firstIndex(of: self)!
        return i + 1 < all.count ? all[i + 1] : nil
    }
}

/// A workflow step's state, as in `reeld.workflow_steps.state`.
public enum WorkflowStepState: String, Sendable, Codable {
    case pending, running, completed, failed, stale
}
