import Foundation

extension Optional where Wrapped == UUID {
    /// The id when it is known, otherwise the one `load` finds (a lookup only when needed).
    func orLoad(_ load: () async throws -> UUID) async throws -> UUID {
        if let self { return self }
        return try await load()
    }
}
