import ReelCore
import ReelProviders
import Testing

/// Every routing rule, on the pure value.
@Suite struct RouterTests {
    let all: Set<String> = ["local", "openai", "google", "kling", "elevenlabs"]

    @Test func eachKindGoesToItsFirstEnabledProviderThenItsFallbacks() throws {
        let router = Router(enabled: all)
        #expect(try router.candidates(for: RouteRequest(kind: .video)) == ["kling", "google", "openai"])
        #expect(try router.candidates(for: RouteRequest(kind: .image)) == ["openai", "google"])
        #expect(try router.candidates(for: RouteRequest(kind: .speech)) == ["elevenlabs"])
        let noKling = Router(enabled: ["local", "google"])
        #expect(try noKling.candidates(for: RouteRequest(kind: .video)) == ["google"])
    }

    @Test func localOnlyWhenNoOtherProviderOfTheKindIsEnabled() throws {
        let offline = Router(enabled: ["local"])
        for kind in [JobKind.storyboard, .image, .video, .speech, .soundEffect, .music] {
            #expect(try offline.candidates(for: RouteRequest(kind: kind)) == ["local"])
        }
        // ElevenLabs alone makes no video: local still makes it.
        #expect(try Router(enabled: ["local", "elevenlabs"]).candidates(for: RouteRequest(kind: .video)) == ["local"])
    }

    @Test func anEndFrameGoesOnlyToModelsThatTakeOne() throws {
        let router = Router(enabled: ["local", "openai", "google", "kling"])
        #expect(try router.candidates(for: RouteRequest(kind: .video, needsEndFrame: true)) == ["kling", "google"])
        #expect(throws: RoutingError.noProvider(.video, need: "an end frame")) {
            try Router(enabled: ["openai"]).candidates(for: RouteRequest(kind: .video, needsEndFrame: true))
        }
    }

    @Test func nativeAudioGoesToVeo() throws {
        let router = Router(enabled: all)
        #expect(try router.candidates(for: RouteRequest(kind: .video, needsNativeAudio: true)) == ["google"])
        #expect(try router.candidates(for: RouteRequest(kind: .video, needsEndFrame: true, needsNativeAudio: true)) == ["google"])
        #expect(throws: RoutingError.noProvider(.video, need: "native audio")) {
            try Router(enabled: ["kling", "openai"]).candidates(for: RouteRequest(kind: .video, needsNativeAudio: true))
        }
    }

    @Test func theJobsOwnProviderWinsIfEnabledAndHasNoFallback() throws {
        let router = Router(enabled: all)
        #expect(try router.candidates(for: RouteRequest(kind: .video, provider: "openai")) == ["openai"])
        #expect(router.fallback(after: "openai", for: RouteRequest(kind: .video, provider: "openai"), certainlyNotAccepted: true) == nil)
        #expect(throws: RoutingError.providerNotEnabled("kling", enabled: ["local"])) {
            try Router(enabled: ["local"]).candidates(for: RouteRequest(kind: .video, provider: "kling"))
        }
    }

    @Test func fallbackOnlyWhenTheProviderCertainlyDidNotAccept() {
        let router = Router(enabled: all)
        let video = RouteRequest(kind: .video)
        #expect(router.fallback(after: "kling", for: video, certainlyNotAccepted: true) == "google")
        #expect(router.fallback(after: "google", for: video, certainlyNotAccepted: true) == "openai")
        #expect(router.fallback(after: "openai", for: video, certainlyNotAccepted: true) == nil)
        // A timeout or a 5xx after the body was sent may have started a paid generation.
        #expect(router.fallback(after: "kling", for: video, certainlyNotAccepted: false) == nil)
    }

    @Test func aConfiguredOrderReplacesTheDefaultForItsKind() throws {
        var routes = Router.defaultRoutes
        routes[.video] = ["google", "kling"]
        let router = Router(routes: routes, enabled: all)
        #expect(try router.candidates(for: RouteRequest(kind: .video)) == ["google", "kling"])
        #expect(throws: RoutingError.noProvider(.edit, need: nil)) {
            try router.candidates(for: RouteRequest(kind: .edit))
        }
    }
}
