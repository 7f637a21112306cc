// Test-only executable: the spool crash tests' stand-in for a reeld process.
//
// It runs the daemon's real spool path (SpoolProcessor → SpoolSubmitter → reeld.submit_job())
// over one spool, one scan. With --stop-at it stops itself (SIGSTOP) at that checkpoint, so the
// test can look at what a crash there leaves behind and then SIGKILL it; without, it is the
// restart: one scan, each outcome printed on stdout, exit 0.
//
// A separate executable rather than a hook in reeld itself: production code only reports
// checkpoints to an observer and never kills itself, whatever its environment says.
//
//     SpoolCrashDriver --database-url URL --spool DIR [--stop-at CHECKPOINT]

import Foundation
import Glibc
import Logging
import ReelDB
import ReelDaemon
import ReelIntake
import ReelQueue

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("SpoolCrashDriver: \(message)\n".utf8))
    exit(64)
}

var options: [String: String] = [:]
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst() {
    guard ["--database-url", "--spool", "--stop-at"].contains(flag), let value = arguments.popFirst() else {
        fail("usage: SpoolCrashDriver --database-url URL --spool DIR [--stop-at CHECKPOINT]")
    }
    options[flag] = value
}
guard let url = options["--database-url"], let spool = options["--spool"] else { fail("--database-url and --spool are required") }
let stopAt: SpoolCheckpoint? = options["--stop-at"].map { name in
    guard let checkpoint = SpoolCheckpoint(rawValue: name) else {
        fail("unknown checkpoint \(name); one of " + SpoolCheckpoint.allCases.map(\.rawValue).joined(separator: ", "))
    }
    return checkpoint
}

var logger = Logger(label: "spool-crash-driver")
logger.logLevel = .info
let database = Database(configuration: .init(url: url, maxConnections: 1), logger: logger)
let processor = try SpoolProcessor(
    configuration: SpoolConfiguration(root: spool), submitter: SpoolSubmitter(queue: JobQueue(database: database)), logger: logger,
    checkpoint: { checkpoint in
        // Stopped, not dead: the test inspects the spool and the database, then SIGKILLs.
        if checkpoint == stopAt { raise(SIGSTOP) }
    })

for outcome in await processor.scan() {
    switch outcome {
    case .accepted(let file, let receipt, let storedAs):
        print("accepted \(file) stored_as=\(storedAs) job=\(receipt.jobID.uuidString.lowercased()) created=\(receipt.created)")
    case .rejected(let file, _, let storedAs):
        print("rejected \(file) stored_as=\(storedAs)")
    case .deferred(let file, let reason):
        print("deferred \(file) reason=\(reason)")
    case .ignored(let file, let reason):
        print("ignored \(file) reason=\(reason)")
    case .vanished(let file):
        print("vanished \(file)")
    }
}
database.close()
