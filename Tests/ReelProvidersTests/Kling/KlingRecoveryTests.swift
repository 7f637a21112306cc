import Foundation
import ReelCore
import ReelProviderFakes
import Testing

@testable import ReelProviders

/// An interrupted create is found again by the generation id sent as `external_task_id`.
@Suite struct KlingRecoveryTests {
    let request = GenerationRequest(kind: .video, prompt: "A kite over the dunes", durationSeconds: 5, externalID: "0b8e1f7a-2c44-4d0e-8f4b-5d6a7c8e9f10")

    @Test func everyKindIsLookedUp() async throws {
        try await withKling { h in
            #expect(h.provider.recoveryRule(for: .video) == .lookUp)
            #expect(h.provider.recoveryRule(for: .image) == .lookUp)
        }
    }

    @Test func aCreateWhoseAnswerWasLostIsFoundByItsExternalID() async throws {
        try await withKling({ $0.requestTimeout = .milliseconds(500) }) { h in
            h.fake.holdCreates = true
            let error = try #require(await anyError { try await h.generate(request) })
            #expect(!(error is RequestNotAccepted))
            #expect(h.fake.createCount == 1)
            h.fake.holdCreates = false
            let made = try #require(h.fake.tasks.first)
            let found = try #require(try await h.provider.lookup(externalID: request.externalID, request: request, context: h.context))
            #expect(found == ProviderTask(provider: "kling", id: made.id))
            #expect(h.fake.requestCount("GET /v1/videos/text2video/\(request.externalID)") == 1)
            // Polling what was found finishes the generation without a second create.
            _ = try finished(try await h.poll(found, request))
            #expect(h.fake.createCount == 1)
        }
    }

    @Test func noTaskForTheExternalIDIsNil() async throws {
        try await withKling { h in
            let found = try await h.provider.lookup(externalID: request.externalID, request: request, context: h.context)
            #expect(found == nil)
            #expect(h.fake.createCount == 0)
        }
    }

    @Test func aServerThatTakesTheExternalIDOnlyAsAQueryIsAskedThatWay() async throws {
        try await withKling { h in
            let (task, _) = try pending(try await h.generate(request))
            h.fake.script("GET /v1/videos/text2video/\(request.externalID)", FakeKling.error(400, 1201, "task_id must be numeric"))
            let found = try await h.provider.lookup(externalID: request.externalID, request: request, context: h.context)
            #expect(found == task)
            let query = try #require(h.fake.requests("GET /v1/videos/text2video").first)
            #expect(query.target.contains("external_task_id=\(request.externalID)"))
        }
    }

    @Test func aLookupKlingCannotAnswerThrowsRatherThanCreatingAgain() async throws {
        try await withKling { h in
            h.fake.script("GET /v1/videos/text2video/\(request.externalID)", FakeKling.error(500, 5000, "Server internal error"))
            let error = try #require(await jobError { try await h.provider.lookup(externalID: request.externalID, request: request, context: h.context) })
            #expect(error.failureClass == .transient)
        }
    }

    @Test func theLookupAsksTheEndpointTheRequestGoesTo() async throws {
        try await withKling { h in
            var request = self.request
            request.startFrame = try h.imageFile("start.png")
            let (task, _) = try pending(try await h.generate(request))
            #expect(try await h.provider.lookup(externalID: request.externalID, request: request, context: h.context) == task)
            #expect(h.fake.requestCount("GET /v1/videos/image2video/\(request.externalID)") == 1)
        }
    }

    @Test func theFakeRefusesASecondCreateWithTheSameExternalID() async throws {
        try await withKling { h in
            _ = try pending(try await h.generate(request))
            let error = try #require(await jobError { try await h.generate(request) })
            #expect(error.failureClass == .permanent)
            #expect(error.message.contains("external_task_id"))
            #expect(h.fake.createCount == 1)
        }
    }
}
