import ReelProviders
import Testing

/// What an attempt does with a generation whose create went unrecorded, as docs/providers.md
/// says for OpenAI: text and images are made again, a Sora video's outcome is unknown.
@Suite struct OpenAIRecoveryTests {
    @Test func textAndImagesAreMadeAgainAndVideosAreOutcomeUnknown() async throws {
        try await withOpenAI { h in
            #expect(h.provider.recoveryRule(for: .text) == .resubmit)
            #expect(h.provider.recoveryRule(for: .image) == .resubmit)
            #expect(h.provider.recoveryRule(for: .video) == .outcomeUnknown)
        }
    }
}
