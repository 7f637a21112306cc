import Foundation
import Glibc
import ReelTestSupport

/// The chaos test's `reeld run` processes: a fixed number of node slots, each run by one process
/// at a time, killed or stopped and started again. Every process that ever ran is kept as an
/// `Incarnation`, with when it died, so that a rescue can be checked against its owner's life.
struct ChaosNodes {
    /// One process of one slot.
    struct Incarnation {
        let slot: Int
        let node: ReeldProcess
        let startedAt: Date
        /// Taken just before the signal that ended it (by this process's clock, which is the
        /// database's too: one machine). Nil while it runs.
        var diedAt: Date?
        var ending: String?

        var owner: String { node.owner }
        var label: String { node.process.label }
    }

    let settings: [ReeldProcess.Settings]
    private(set) var incarnations: [Incarnation] = []
    /// The running incarnation of each slot (an index into `incarnations`).
    private(set) var current: [Int?]

    init(settings: [ReeldProcess.Settings]) {
        self.settings = settings
        current = Array(repeating: nil, count: settings.count)
    }

    var slots: Range<Int> { settings.indices }

    func node(_ slot: Int) -> ReeldProcess? { current[slot].map { incarnations[$0].node } }

    /// The nodes running now.
    var running: [ReeldProcess] { current.compactMap { $0.map { incarnations[$0].node } } }

    /// Starts a process in `slot`, which must have none.
    @discardableResult
    mutating func start(_ slot: Int) throws -> ReeldProcess {
        precondition(current[slot] == nil, "slot \(slot) still runs a process")
        let count = incarnations.filter { $0.slot == slot }.count
        let node = try ReeldProcess(settings[slot], label: "\(settings[slot].nodeName)-\(count + 1)")
        incarnations.append(Incarnation(slot: slot, node: node, startedAt: Date()))
        current[slot] = incarnations.count - 1
        return node
    }

    /// SIGKILLs the slot's process and reaps it.
    mutating func kill(_ slot: Int) {
        guard let index = current[slot] else { return }
        incarnations[index].diedAt = Date()
        incarnations[index].ending = "SIGKILL"
        incarnations[index].node.process.killAndReap()
        current[slot] = nil
    }

    /// SIGTERMs the slot's process and waits for it to exit; returns how it ended.
    mutating func stop(_ slot: Int, timeout: Duration) async throws -> ChildProcess.Termination {
        guard let index = current[slot] else { throw ChildProcess.Failure("slot \(slot) runs no process") }
        let process = incarnations[index].node.process
        process.send(SIGTERM)
        let ended = try await process.waitForExit(timeout: timeout)
        // A node that stops hands its leases back before it exits: it died when it exited.
        incarnations[index].diedAt = Date()
        incarnations[index].ending = "SIGTERM, \(ended)"
        current[slot] = nil
        return ended
    }

    /// The incarnation whose lease owner is `owner`.
    func incarnation(owner: String) -> Incarnation? {
        incarnations.first { $0.owner == owner }
    }

    /// The last lines of every process's log, for failure messages.
    func logs(lines: Int = 25) -> String {
        incarnations.map { "[\($0.label) \($0.owner) \($0.ending ?? "running")]\n\($0.node.process.stderrTail(lines: lines))" }
            .joined(separator: "\n")
    }
}
