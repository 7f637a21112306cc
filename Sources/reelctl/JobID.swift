import ArgumentParser
import Foundation

/// A job id on the command line, checked before any database is opened.
struct JobID: ExpressibleByArgument {
    var value: UUID

    init?(argument: String) {
        guard let value = UUID(uuidString: argument) else { return nil }
        self.value = value
    }

    static var defaultValueDescription: String { "job id (UUID)" }
}

extension CtlFailure {
    static func noSuchJob(_ id: UUID) -> CtlFailure {
        CtlFailure(code: .notFound, message: "no job \(id.uuidString.lowercased()) (never submitted, or pruned)")
    }
}
