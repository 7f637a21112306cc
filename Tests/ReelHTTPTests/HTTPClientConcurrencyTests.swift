import Foundation
import ReelHTTP
import ReelLoopbackHTTP
import Synchronization
import Testing

@Suite(.timeLimit(.minutes(1))) struct HTTPClientConcurrencyTests {
    @Test func cancellingTheTaskRemovesTheRequestAtOnce() async throws {
        let arrived = Signal<Void>()
        let closed = Signal<Bool>()
        try await withServer({ _, connection in
            arrived.signal(())
            // True once the client drops the connection; a long wait proves nothing else ended it.
            closed.signal(connection.waitUntilClosed(timeout: .seconds(40)))
        }) { server, client in
            let options = HTTPRequestOptions(totalTimeout: .seconds(50), lowSpeed: nil)
            let error: HTTPError? = await withTaskGroup(of: HTTPError?.self) { group in
                group.addTask { await failure { try await client.execute(HTTPRequest(url: server.baseURL + "/poll", options: options)) } }
                _ = await arrived.wait()
                group.cancelAll()
                return await group.next() ?? nil
            }
            #expect(error?.isCancelled == true)
            #expect(await closed.wait() == true)
        }
    }

    @Test func aCancelledTaskSendsNothing() async throws {
        let requests = LoopbackState(0)
        try await withServer({ _, connection in
            requests.withLock { $0 += 1 }
            connection.respond(status: 200)
        }) { server, client in
            let error: HTTPError? = await withTaskGroup(of: HTTPError?.self) { group in
                group.cancelAll()
                group.addTask { await failure { try await client.execute(HTTPRequest(url: server.baseURL + "/never")) } }
                return await group.next() ?? nil
            }
            #expect(error?.isCancelled == true)
            #expect(error?.certainlyNotAccepted == true)
            _ = try await client.execute(HTTPRequest(url: server.baseURL + "/after"))
            #expect(requests.value == 1)
        }
    }

    @Test func oneClientHoldsManyRequestsAtOnce() async throws {
        let count = 200
        let waiting = LoopbackState(0)
        let everyone = DispatchSemaphore(value: 0)
        try await withServer({ request, connection in
            // Nobody is answered until all are in: the client must hold them all at once.
            let arrivedAll = waiting.withLock { n in
                n += 1
                return n == count
            }
            if arrivedAll {
                for _ in 0..<(count - 1) { everyone.signal() }
            } else if everyone.wait(timeout: .now() + 30) == .timedOut {
                connection.respond(status: 500, text: "not all requests arrived together")
                return
            }
            connection.respond(status: 200, text: String(request.path.dropFirst()))
        }) { server, client in
            let answers = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for i in 0..<count {
                    group.addTask {
                        let response = try await client.execute(HTTPRequest(url: server.baseURL + "/\(i)"))
                        return (i, String(decoding: response.body, as: UTF8.self))
                    }
                }
                return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
            }
            #expect(answers.count == count)
            #expect(answers.allSatisfy { String($0.key) == $0.value })
        }
    }
}
