import Foundation
import ReelCore
import ReelDB
import ReelLocalCluster
import ReelRender
import ReelTestSupport
import Testing

extension ProcessTests.DemoEndToEndTests {
    @Test func demoMakesAnH264AndAACFilmAsLongAsItsClipsWithEveryStepAndJobCompleted() async throws {
        let directory = try TemporaryDirectory(prefix: "reeld-demo")
        let state = directory.appending("state")
        let cluster = LocalCluster(directory: state.appendingPathComponent("postgres"))
        defer {
            // The demo stops its cluster itself; this is for a demo killed on timeout, and for the
            // restart below. Stopping a stopped cluster fails harmlessly.
            try? cluster.stop()
            directory.remove()
        }

        let demo = try ChildProcess(
            executable: try BuiltProducts.executable("reeld"),
            arguments: ["demo", "--scenes", "2", "--state-dir", state.path, "--migrations", TestDatabase.migrationsDirectory.path,
                        "A heron fishing at dawn"],
            // Rendering is the heaviest work in the suite and has no deadline of its own.
            outputDirectory: directory.url, label: "demo", niceness: 10)
        defer { demo.killAndReap() }
        let exit = try await demo.waitForExit(timeout: .seconds(300))
        try #require(exit == .exited(0), "reeld demo: \(exit)\n\(demo.standardOutput)\n\(demo.stderrTail())")
        let marker = "done. film: "
        let filmLine = try #require(demo.standardOutput.split(separator: "\n").first { $0.contains(marker) }, "\(demo.standardOutput)")
        let film = URL(fileURLWithPath: String(filmLine[filmLine.range(of: marker)!.upperBound...]))

        // The film, through libav: one H.264 stream, one AAC stream.
        let facts = try MediaProbe.probe(film)
        #expect(facts.formatName.contains("mp4"))
        #expect(facts.streams.count == 2, "streams: \(facts.streams)")
        #expect(facts.streams.filter { $0.type == .video }.map(\.codecName) == ["h264"])
        #expect(facts.streams.filter { $0.type == .audio }.map(\.codecName) == ["aac"])
        let fps = try #require(facts.videoStream?.framesPerSecond)
        let duration = try #require(facts.durationSeconds)

        // What the demo left in its database, with its cluster started again.
        try cluster.start()
        let database = Database(configuration: .init(url: cluster.url(), maxConnections: 1), logger: TestDatabase.logger)
        defer { database.close() }
        let project = try await database.query(
            "select project_id from public.jobs where kind = 'workflow.run'")[0].uuid("project_id")

        let steps = try await database.query(
            "select step::text as step, state::text as state from public.workflow_steps where project_id = $1::uuid order by step", [project])
        let allSteps = try await database.query("select count(*) as n from unnest(enum_range(null::public.workflow_step))")[0].int("n")
        #expect(steps.count == allSteps)
        for step in steps {
            let name = try step.string("step"), stepState = try step.string("state")
            #expect(stepState == "completed", "step \(name) is \(stepState)")
        }
        let jobs = try await database.query("select state::text as state, count(*) as n from public.jobs group by 1")
        let counts = Dictionary(uniqueKeysWithValues: try jobs.map { (try $0.string("state"), try $0.int("n")) })
        #expect(counts.keys.sorted() == ["completed"], "jobs by state: \(counts)")
        #expect(counts["completed", default: 0] >= 10)

        // As long as its scene clips less their crossfades, to within one frame, each clip measured by libav.
        let clips = try await database.query(
            """
            select a.storage_key from public.assets a join public.scenes s on s.id = a.scene_id
            where a.project_id = $1::uuid and a.role = 'clip' order by s.index
            """, [project])
        #expect(clips.count == 2)
        var clipSeconds = 0.0
        for clip in clips {
            let url = state.appendingPathComponent("storage").appendingPathComponent(try clip.string("storage_key"))
            clipSeconds += try #require(try MediaProbe.probe(url).durationSeconds)
        }
        // The first cut crossfades neighbouring clips; each transition overlaps two clips by its
        // length, as the timeline render.edit wrote says.
        let timelineKey = try await database.query(
            "select storage_key from public.assets where project_id = $1::uuid and role = 'timeline'", [project])[0].string("storage_key")
        let timeline = try Timeline(json: Data(contentsOf: state.appendingPathComponent("storage").appendingPathComponent(timelineKey)))
        let overlap = timeline.video.compactMap { $0.transition?.duration }.reduce(0, +)
        #expect(overlap > 0)
        let expected = clipSeconds - overlap
        #expect(abs(duration - expected) <= 1 / fps, "film \(duration) s, clips \(clipSeconds) s less \(overlap) s of transitions, one frame \(1 / fps) s")
        if let video = facts.videoStream?.durationSeconds {
            #expect(abs(video - expected) <= 1 / fps, "video stream \(video) s, expected \(expected) s")
        }
    }
}
