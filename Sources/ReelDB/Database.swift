import Foundation
import Logging
import ReelBlocking
import ServiceLifecycle
import Synchronization

/// A pool of PostgreSQL connections whose calls run on a `BlockingPool`, since libpq blocks.
///
/// `withConnection` runs a synchronous closure with a connection on one of the pool's threads:
/// a claim, a batch of completions or a short transaction is one hop, with no awaits while a
/// transaction is open.
///
/// As a `Service`, `run()` owns the connections' lifetime: they are closed when the service
/// group shuts down, after the services started later (which use the database) have stopped.
/// Used without a service group, `close()` does the same.
public final class Database: Sendable, Service, CustomStringConvertible {
    /// Configuration for the pool.
    public struct Configuration: Sendable {
        public var url: String
        public var maxConnections: Int

        public init(url: String, maxConnections: Int = 4) {
            self.url = url
            self.maxConnections = max(1, maxConnections)
        }
    }

    /// One connection's place in the pool.
    final class Slot: @unchecked Sendable {
        // @unchecked: a slot belongs to one caller at a time (between `acquire` and `release`),
        // and `connection` is touched only inside that caller's work on the blocking pool.
        var connection: PostgresConnection?
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
    private let threads: BlockingPool
    /// The pool was made here, so `close()` ends its threads too.
    private let ownsThreads: Bool

    /// `threads` runs the connections' calls; without one the database makes its own, with a
    /// thread per connection. A shared pool must have at least `maxConnections` threads more
    /// than its other users can hold at once, or database calls wait behind their work.
    public init(configuration: Configuration, logger: Logger, threads: BlockingPool? = nil) {
        self.configuration = configuration
        self.logger = logger
        self.threads = threads ?? BlockingPool(maxThreads: configuration.maxConnections, name: "reeld-db")
        ownsThreads = threads == nil
    }

    public var description: String { "Database(connections: \(configuration.maxConnections))" }

    /// Keeps the pool open until the service group shuts down (or the task is cancelled), then
    /// closes it.
    public func run() async throws {
        try? await gracefulShutdown()
        close()
    }

    /// Runs `body` on a pooled connection's thread. A broken connection is replaced on next use.
    public func withConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        let slot = await acquire()
        defer { release(slot) }
        let url = configuration.url
        let logger = logger
        return try await threads.run {
            if slot.connection == nil || slot.connection?.isHealthy == false {
                slot.connection = nil
                slot.connection = try PostgresConnection(url: url, logger: logger)
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

    /// Closes idle connections now and busy ones when their work is done; ends the threads
    /// of a pool the database made itself. Idempotent.
    public func close() {
        let slots = state.withLock { state -> [Slot] in
            state.closed = true
            defer { state.idle.removeAll() }
            return state.idle
        }
        for slot in slots { disconnect(slot) }
        if ownsThreads { threads.shutdown() }
    }

    private func disconnect(_ slot: Slot) {
        threads.submit { slot.connection = nil }
    }

    private func acquire() async -> Slot {
        enum Next { case slot(Slot), create, wait }
        let next = state.withLock { state -> Next in
            if let slot = state.idle.popLast() { return .slot(slot) }
            if state.created < configuration.maxConnections {
                state.created += 1
                return .create
            }
            return .wait
        }
        switch next {
        case .slot(let slot): return slot
        case .create: return Slot()
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
                disconnect(slot)
            } else {
                state.idle.append(slot)
            }
            return nil
        }
        waiter?.resume(returning: slot)
    }
}
