import Foundation
import ReelCore
import ReelProviderFakes
import ReelProviders
import Testing

/// What an attempt does with a generation whose create went unrecorded, as docs/providers.md
/// says for OpenAI: text and images are made again; a Sora video is looked for in the account's
/// list of videos, by what its create asked for, among those made since that call went out.
@Suite struct OpenAIRecoveryTests {
    /// The create call went out a moment ago (its generation became submitting then).
    let request: GenerationRequest = {
        var request = GenerationRequest(kind: .video, prompt: "Waves on a breakwater", durationSeconds: 8, width: 1280, height: 720, externalID: "gen-9")
        request.earlierCallSentAt = Date().addingTimeInterval(-5)
        return request
    }()

    @Test func textAndImagesAreMadeAgainAndVideosAreLookedUp() async throws {
        try await withOpenAI { h in
            #expect(h.provider.recoveryRule(for: .text) == .resubmit)
            #expect(h.provider.recoveryRule(for: .image) == .resubmit)
            #expect(h.provider.recoveryRule(for: .video) == .lookUp)
        }
    }

    @Test func theVideoAnEarlierCreateMadeIsFoundAmongOthers() async throws {
        try await withOpenAI { h in
            h.fake.addVideo(prompt: "Another scene", seconds: "8", size: "1280x720")
            let (made, _) = try pending(try await h.generate(request))
            h.fake.addVideo(prompt: request.prompt, seconds: "4", size: "1280x720")  // another length
            h.fake.addVideo(model: "sora-2-pro", prompt: request.prompt, seconds: "8", size: "1280x720")  // another model
            let found = try await h.provider.lookup(externalID: request.externalID, request: request, context: h.context)
            #expect(found == made)
            #expect(h.fake.requests("GET /v1/videos").count == 1)
        }
    }

    @Test func aVideoMadeBeforeTheCallWentOutIsNotTheCallsSoTheCallIsMadeAgain() async throws {
        try await withOpenAI { h in
            // The same ask, from an hour before: an earlier generation's video, not this call's.
            h.fake.addVideo(prompt: request.prompt, seconds: "8", size: "1280x720", createdAt: Date().addingTimeInterval(-3600))
            let found = try await h.provider.lookup(externalID: request.externalID, request: request, context: h.context)
            #expect(found == nil)
        }
    }

    @Test func twoVideosWithTheSameAskSinceTheCallCannotBeToldApart() async throws {
        try await withOpenAI { h in
            let first = h.fake.addVideo(prompt: request.prompt, seconds: "8", size: "1280x720")
            let second = h.fake.addVideo(prompt: request.prompt, seconds: "8", size: "1280x720")
            let error = await #expect(throws: TaskNotIdentified.self) {
                try await h.provider.lookup(externalID: request.externalID, request: request, context: h.context)
            }
            #expect(error?.reason.contains(first) == true && error?.reason.contains(second) == true, "\(String(describing: error))")
        }
    }

    @Test func theListIsReadPageByPageUntilItGoesBackPastTheCall() async throws {
        try await withOpenAI { h in
            h.fake.addVideo(prompt: "Older than the call", createdAt: Date().addingTimeInterval(-7200))
            let made = h.fake.addVideo(prompt: request.prompt, seconds: "8", size: "1280x720")
            for index in 0..<230 { h.fake.addVideo(prompt: "Busy account \(index)") }
            let found = try await h.provider.lookup(externalID: request.externalID, request: request, context: h.context)
            #expect(found?.id == made)
            let pages = h.fake.requests("GET /v1/videos")
            #expect(pages.count == 3, "\(pages.map(\.target))")
            #expect(pages.dropFirst().allSatisfy { $0.target.contains("after=video_") })
        }
    }

    @Test func aCallWhoseTimeIsNotRecordedCannotBeLookedFor() async throws {
        try await withOpenAI { h in
            var unrecorded = request
            unrecorded.earlierCallSentAt = nil
            await #expect(throws: TaskNotIdentified.self) {
                try await h.provider.lookup(externalID: unrecorded.externalID, request: unrecorded, context: h.context)
            }
            #expect(h.fake.requests("GET /v1/videos").isEmpty)
        }
    }
}
