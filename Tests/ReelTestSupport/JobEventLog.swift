import Foundation
import ReelCore
import ReelDB
import Synchronization

/// Every job state change the database publishes on `reeld_events`, recorded while a test runs:
/// how a test sees that a job completed exactly once, whichever process completed it.
public final class JobEventLog: Sendable {
    /// One published change of one job.
    public struct Event: Sendable, Hashable {
        public var id: UUID
        public var state: String
    }

    private let listener: NotificationListener
    private let events = Mutex<[Event]>([])
    private let listening = Atomic<Bool>(false)

    private init(url: String) {
        listener = NotificationListener(url: url, channels: ["reeld_events"], logger: TestDatabase.logger)
    }

    /// Runs `body` while recording, from the moment the listener is connected until `body` returns.
    public static func recording<T>(url: String, _ body: (JobEventLog) async throws -> T) async throws -> T {
        let log = JobEventLog(url: url)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await log.record() }
            defer { log.listener.stop() }
            try await Poll.until("LISTEN reeld_events to be connected", timeout: .seconds(15)) { log.listening.load(ordering: .acquiring) }
            return try await body(log)
        }
    }

    /// Publishes a marker on `reeld_events` through `database` and waits until it is recorded.
    /// PostgreSQL delivers notifications in commit order, so every change committed before the
    /// marker has been recorded by then: a test that has stopped every writer can count events
    /// without sleeping first.
    public func catchUp(through database: Database, timeout: Duration = .seconds(30)) async throws {
        let marker = UUID()
        let payload = JSONValue.array([["id": .string(marker.uuidString), "state": "marker"]])
        try await database.query("select pg_notify('reeld_events', $1)", [payload.jsonText])
        try await Poll.until("the marker notification \(marker) to arrive", timeout: timeout) {
            states(of: marker) == ["marker"]
        }
    }

    /// The states `job` was published in, in order.
    public func states(of job: UUID) -> [String] {
        events.withLock { $0.filter { $0.id == job }.map(\.state) }
    }

    private func record() async {
        for await notification in listener.notifications {
            if notification.channel == NotificationListener.reconnectedChannel {
                listening.store(true, ordering: .releasing)
                continue
            }
            guard let batch = try? JSONValue(parsing: Array(notification.payload.utf8)).arrayValue else { continue }
            let parsed = batch.compactMap { item -> Event? in
                guard let id = item["id"]?.stringValue.flatMap(UUID.init(uuidString:)), let state = item["state"]?.stringValue else { return nil }
                return Event(id: id, state: state)
            }
            events.withLock { $0.append(contentsOf: parsed) }
        }
    }
}
