import Foundation
import Logging
import Synchronization

/// A pool of PostgreSQL connections, each on its own thread.
///
/// `withConnection` runs a synchronous closure on a connection's thread: a claim, a batch of
/// completions or a short transaction is one hop, with no awaits while a transaction is open.
public final class Database: Sendable {
    /// Configuration for the pool.
    public struct Configuration: Sendable {
        public var url: String
        public var maxConnections: Int

        public init(url: String, maxConnections: Int = 4) {
            self.url = url
            self.maxConnections = max(1, maxConnections)
        }
    }

    final class Slot: @unchecked Sendable {
        // `connection` is touched only on `thread`.
        let thread: DedicatedThread
        var connection: PostgresConnection?

        init(index: Int) { thread = DedicatedThread(name: "reeld-db-\(index)") }
    }

    struct State {
        var idle: [Slot] = []
        var created = 0
        var waiters: [CheckedContinuation<Slot, Never>] = []
        var closed = false
    }

    public let configuration: Configuration
    private let state = Mutex(State())
    private let logger: Logger

    public init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Runs `body` on a pooled connection's thread. A broken connection is replaced on next use.
    public func withConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        let slot = await acquire()
        defer { release(slot) }
        let url = configuration.url
        return try await slot.thread.run {
            if slot.connection == nil || slot.connection?.isHealthy == false {
                slot.connection = nil
                slot.connection = try PostgresConnection(url: url)
            }
            do {
                return try body(slot.connection!)
            } catch let error as DatabaseError where error.kind == .connection {
                slot.connection = nil
                throw error
            }
        }
    }

    /// Runs one statement.
    @discardableResult
    public func query(_ sql: String, _ parameters: [any SQLParameter] = []) async throws -> PostgresRows {
        try await withConnection { try $0.query(sql, parameters) }
    }

    /// Runs `body` inside BEGIN/COMMIT, rolling back if it throws.
    public func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        try await withConnection { conn in
            try conn.execute("begin")
            do {
                let value = try body(conn)
                try conn.execute("commit")
                return value
            } catch {
                if conn.isHealthy { _ = try? conn.execute("rollback") }
                throw error
            }
        }
    }

    /// Closes idle connections and ends their threads. Work in flight finishes first.
    public func close() {
        let slots = state.withLock { state -> [Slot] in
            state.closed = true
            defer { state.idle.removeAll() }
            return state.idle
        }
        for slot in slots {
            slot.thread.submit { slot.connection = nil }
            slot.thread.stop()
        }
    }

    private func acquire() async -> Slot {
        enum Next { case slot(Slot), create(Int), wait }
        let next = state.withLock { state -> Next in
            if let slot = state.idle.popLast() { return .slot(slot) }
            if state.created < configuration.maxConnections {
                state.created += 1
                return .create(state.created)
            }
            return .wait
        }
        switch next {
        case .slot(let slot): return slot
        case .create(let index): return Slot(index: index)
        case .wait:
            return await withCheckedContinuation { continuation in
                let handed: Slot? = state.withLock { state in
                    if let slot = state.idle.popLast() { return slot }
                    state.waiters.append(continuation)
                    return nil
                }
                if let handed { continuation.resume(returning: handed) }
            }
        }
    }

    private func release(_ slot: Slot) {
        let waiter = state.withLock { state -> CheckedContinuation<Slot, Never>? in
            if !state.waiters.isEmpty { return state.waiters.removeFirst() }
            if state.closed {
                slot.thread.submit { slot.connection = nil }
                slot.thread.stop()
            } else {
                state.idle.append(slot)
            }
            return nil
        }
        waiter?.resume(returning: slot)
    }
}
