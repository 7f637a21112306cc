import ArgumentParser
import Foundation
import ReelCore
import ReelIntake
import ReelQueue

/// `reelctl submit FILE.json`: the same decoder and the same idempotency as the spool.
struct Submit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Submit a job file (the spool's format); submitting the same file twice queues one job.")

    @ParentCommand var root: ReelCtl

    @Argument(help: ArgumentHelp("The job file; - reads standard input.", valueName: "file.json"))
    var file: String

    func run() async throws {
        try await reportingFailures {
            let bytes = try readJobFile()
            let submission = try JobFileDecoder().decode(bytes)
            let database = try root.global.openDatabase()
            defer { database.close() }
            let receipt = try await JobQueue(database: database).submit(submission)
            let id = receipt.jobID.lowercasedText
            if receipt.created {
                print("job \(id) created")
            } else {
                print("job \(id) already existed (idempotency key \(submission.idempotencyKey ?? "—"))")
            }
        }
    }

    private func readJobFile() throws -> Data {
        if file == "-" { return FileHandle.standardInput.readDataToEndOfFile() }
        guard FileManager.default.fileExists(atPath: file) else {
            throw CtlFailure(code: .notFound, message: "no such file: \(file)")
        }
        do {
            return try Data(contentsOf: URL(fileURLWithPath: file))
        } catch {
            throw CtlFailure(code: .notFound, message: "cannot read \(file): \(error.localizedDescription)")
        }
    }
}
