import Foundation
import ReelCore
import Testing

@testable import ReelRender

/// Eviction of the normalised-input cache: least recently used first, never a file in use.
@Suite struct NormalizedCacheTests {
    @discardableResult
    static func file(_ name: String, in dir: URL, bytes: Int = 1000, age: TimeInterval) throws -> URL {
        let url = dir.appendingPathComponent(name)
        try Data(repeating: 7, count: bytes).write(to: url)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -age)], ofItemAtPath: url.path)
        return url
    }

    static func names(in dir: URL) throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() }

    @Test func leastRecentlyUsedFilesGoFirstUntilTheRestFit() throws {
        try TestMedia.withTemporaryDirectory { dir in
            try Self.file("a.mp4", in: dir, age: 3 * 3600)
            try Self.file("b.mp4", in: dir, age: 2 * 3600)
            try Self.file("c.mp4", in: dir, age: 3600)
            // Another render's file being written, and a crashed one's from two days ago.
            try Self.file(".d.mp4.partial-1.mp4", in: dir, age: 3 * 3600)
            try Self.file(".e.mp4.partial-2.mp4", in: dir, age: 2 * 86_400)
            let removed = NormalizedCache(directory: dir, budgetBytes: 1500).evict()
            #expect(removed.map(\.lastPathComponent) == ["a.mp4", "b.mp4"])
            #expect(try Self.names(in: dir) == [".d.mp4.partial-1.mp4", "c.mp4"])
            #expect(NormalizedCache(directory: dir, budgetBytes: 1500).evict().isEmpty)
        }
    }

    @Test func aFileARenderReadsOrJustUsedIsKeptOverBudget() throws {
        try TestMedia.withTemporaryDirectory { dir in
            let held = try Self.file("held.mp4", in: dir, age: 3 * 3600)
            try Self.file("free.mp4", in: dir, age: 2 * 3600)
            try Self.file("fresh.mp4", in: dir, age: 10)
            var lease: NormalizedCache.Lease? = NormalizedCache.Lease()
            #expect(lease?.hold(held) == true)
            let removed = NormalizedCache(directory: dir, budgetBytes: 0, grace: 60).evict()
            #expect(removed.map(\.lastPathComponent) == ["free.mp4"])
            #expect(try Self.names(in: dir) == ["fresh.mp4", "held.mp4"])
            #expect(lease != nil)
            lease = nil
            // Released, it goes.
            #expect(NormalizedCache(directory: dir, budgetBytes: 0, grace: 60).evict().map(\.lastPathComponent) == ["held.mp4"])
            #expect(!NormalizedCache.Lease().hold(held), "a removed file cannot be held")
        }
    }

    @Test func aRenderMarksTheFilesItReusesAndEvictsStaleOnesAfterwards() throws {
        try TestMedia.withTemporaryDirectory { dir in
            let cache = dir.appendingPathComponent("cache")
            let odd = try RenderFixtures.clip(RenderFixtures.blue, seconds: 1, in: dir, name: "odd.mp4", width: 256, height: 144)
            let timeline = Timeline(video: [TimelineClip(id: "s1", asset: "odd", in: 0, out: 1)], output: RenderFixtures.output())
            try TimelineRenderer(options: .init(normalizedDirectory: cache)).render(timeline, media: ["odd": odd], to: dir.appendingPathComponent("one.mp4"))
            let normalised = try #require(try Self.names(in: cache).first)
            let path = cache.appendingPathComponent(normalised).path
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -3600)], ofItemAtPath: path)
            try Self.file("stale.mp4", in: cache, bytes: 100_000, age: 7200)
            let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)

            let renderer = TimelineRenderer(options: .init(normalizedDirectory: cache, normalizedCacheBudget: Int64(size + 1000)))
            let report = try renderer.render(timeline, media: ["odd": odd], to: dir.appendingPathComponent("two.mp4"))
            #expect(report.normalized.isEmpty)
            #expect(try Self.names(in: cache) == [normalised])
            let used = try #require(try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date)
            #expect(Date().timeIntervalSince(used) < 60, "the reused file was not marked as used")
        }
    }
}
