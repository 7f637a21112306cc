import ArgumentParser
import Foundation
import ReelCore

/// A job id on the command line, checked before any database is opened.
struct JobID: ExpressibleByArgument {
    var value: UUID

    init?(argument: String) {
        guard let value = UUID(text: argument) else { return nil }
        self.value = value
    }

    static var defaultValueDescription: String { "job id (UUID)" }
}

extension CtlFailure {
    static func noSuchJob(_ id: UUID) -> CtlFailure {
        CtlFailure(code: .notFound, message: "no job \(id.lowercasedText) (never submitted, or pruned)")
    }
}
