import Foundation
import ReelCore

/// Who may submit spool jobs for whom (`[intake.submitters]`).
///
/// A spool file is submitted with the rights of its owner, the uid that created it in `tmp/`:
/// only root can give a file away, so the owner is the one identity a submitter cannot forge.
/// The owner decides which studio users the file may name in `user_id`; the default trusts nobody
/// but root and the service itself, so an unconfigured spool cannot be used to spend another
/// user's credits.
public struct SpoolSubmitters: Sendable, Hashable {
    /// Owners whose files may name any user, or none (a job without `user_id` runs as its
    /// project's owner, or without limits or credits).
    public var anyUserUIDs: Set<UInt32>
    /// Owners whose files may name only these users, and must name one.
    public var usersByUID: [UInt32: Set<UUID>]

    public init(anyUserUIDs: Set<UInt32> = [], usersByUID: [UInt32: Set<UUID>] = [:]) {
        self.anyUserUIDs = anyUserUIDs
        self.usersByUID = usersByUID
    }

    /// The same rules with `uids` (root and the service's own uid, which can read the database
    /// credentials anyway) allowed to act for anyone.
    func trusting(_ uids: [UInt32]) -> SpoolSubmitters {
        var trusted = self
        trusted.anyUserUIDs.formUnion(uids)
        return trusted
    }

    /// Why files of `uid` are refused whatever they say, before they are read; nil if the uid may submit.
    func refusal(ofOwner uid: UInt32) -> IntakeProblem? {
        if anyUserUIDs.contains(uid) || usersByUID[uid] != nil { return nil }
        return IntakeProblem(
            path: "$", expected: "a file owned by a uid listed in [intake.submitters]", got: "owner uid \(uid)",
            message: "$: uid \(uid) may not submit jobs (not listed in [intake.submitters])")
    }

    /// Why `job`, in a file owned by `uid`, may not be submitted; nil if it may.
    func refusal(of job: JobSubmission, ownerUID uid: UInt32) -> IntakeProblem? {
        if anyUserUIDs.contains(uid) { return nil }
        guard let users = usersByUID[uid] else { return refusal(ofOwner: uid) }
        let allowed = users.map { $0.lowercasedText }.sorted().joined(separator: ", ")
        guard let user = job.userID else {
            return IntakeProblem(
                path: "$.user_id", expected: "one of the users uid \(uid) may submit for (\(allowed))", got: "nothing (field missing)",
                message: "$.user_id: uid \(uid) must name one of its users (\(allowed)); only intake.submitters.any_user_uids may submit jobs without a user")
        }
        if users.contains(user) { return nil }
        let named = user.lowercasedText
        return IntakeProblem(
            path: "$.user_id", expected: "one of the users uid \(uid) may submit for (\(allowed))", got: "user \(named)",
            message: "$.user_id: uid \(uid) may not submit jobs for user \(named); its users: \(allowed)")
    }
}
