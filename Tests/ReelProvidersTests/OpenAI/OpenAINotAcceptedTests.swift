import Foundation
import ReelCore
import ReelProviderFakes
import ReelProviders
import Testing

/// Which of OpenAI's failures say the call certainly never started anything there: those let a
/// routed job move to the next provider (`JobError.certainlyNotAccepted`), any other must not,
/// or two providers could make (and bill) the same generation.
@Suite struct OpenAINotAcceptedTests {
    let image = GenerationRequest(kind: .image, prompt: "A wide shot of the fair", width: 1024, height: 1024, externalID: "gen-na")
    let video = GenerationRequest(kind: .video, prompt: "A calico cat playing a piano", durationSeconds: 4, width: 1280, height: 720,
                                  externalID: "gen-nv")

    @Test func aRefusedConnectionWasNotAccepted() async throws {
        // Nothing listens on the discard port of the loopback address: the connection is refused.
        let error = try await withOpenAI({ $0.baseURL = "http://127.0.0.1:9/v1" }) { h in
            try #require(await jobError { try await h.generate(image) })
        }
        #expect(error.certainlyNotAccepted, "\(error)")
        #expect(error.failureClass == .transient)
    }

    @Test func aServerErrorOnCreateWasNotAccepted() async throws {
        try await withOpenAI { h in
            h.fake.script("POST /v1/videos", .json(status: 503, FakeOpenAI.errorBody("The server is overloaded.", type: "server_error", code: nil)))
            let error = try #require(await jobError { try await h.generate(video) })
            #expect(error.certainlyNotAccepted)
            #expect(error.failureClass == .transient)
        }
    }

    @Test func aRejectedRequestWasAccepted() async throws {
        try await withOpenAI { h in
            h.fake.script("POST /v1/images/generations", .json(status: 400, FakeOpenAI.errorBody("Invalid size.", type: "invalid_request_error", code: nil)))
            let error = try #require(await jobError { try await h.generate(image) })
            #expect(!error.certainlyNotAccepted)
            #expect(error.failureClass == .permanent)
        }
    }

    /// The request was sent and no answer came: OpenAI may be making the image.
    @Test func aTimeoutAfterSendingMayHaveBeenAccepted() async throws {
        try await withOpenAI({ $0.imageTimeout = .seconds(1) }) { h in
            h.fake.script("POST /v1/images/generations", .stall)
            let error = try #require(await jobError { try await h.generate(image) })
            #expect(error.message.contains("timeout"))
            #expect(!error.certainlyNotAccepted)
        }
    }
}
