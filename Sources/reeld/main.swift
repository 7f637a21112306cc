import ArgumentParser
import Foundation
import Logging
import ReelBench
import ReelConfig
import ReelDaemon
import ReelDB
import ReelFileRender
import ReelSystemd
import ReelVersion

@main
struct Reeld: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reeld",
        abstract: "The job runner for AI video production.",
        version: ReelVersion.line(program: "reeld"),
        subcommands: [Run.self, Migrate.self, CheckConfig.self, Render.self, Demo.self, Bench.self])
}

/// Options every command that reads configuration shares.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "Configuration file.")
    var config: String = "/etc/reeld/reeld.toml"

    @Option(name: .long, help: "Migrations directory (default: ./Migrations, then /usr/share/reeld/migrations).")
    var migrations: String?

    func load() throws -> ReelConfig { try ReelConfig.load(path: config) }
}

/// Sets up logging for the process. Every logger's handler reads `level`, so that setting it
/// (as `reeld run` does on reload) changes what the whole process logs.
func bootstrapLogging(level: LogLevelSwitch, backend: ReelConfig.Log.Backend = .auto) -> Logger {
    let chosen: LoggingBackend = switch backend {
    case .auto: LoggingBackend.detect()
    case .journald: .journald
    case .stderr: .stderr
    }
    LoggingSystem.bootstrap { label in chosen.makeHandler(label: label, level: level) }
    return Logger(label: "reeld")
}

/// Logging at a level that stays as it is.
func bootstrapLogging(level: Logger.Level, backend: ReelConfig.Log.Backend = .auto) -> Logger {
    bootstrapLogging(level: LogLevelSwitch(level), backend: backend)
}

extension Reeld {
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a node: engine, workers and spool intake, until SIGTERM; SIGHUP reloads the configuration.")
        @OptionGroup var options: ConfigOptions

        func run() async throws {
            let config = try options.load()
            let level = LogLevelSwitch(config.log.level)
            let logger = bootstrapLogging(level: level, backend: config.log.backend)
            let schema = try Migrator(directory: try MigrationsLocator.find(explicit: options.migrations), logger: logger)
                .check(url: config.database.url)
            let node = try ReelNode(config: config, logger: logger)
            try await node.run(reload: ConfigReload(path: options.config, logLevel: level), schema: schema)
        }
    }

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Apply pending migrations (safe from several nodes at once).")
        @OptionGroup var options: ConfigOptions

        func run() async throws {
            let config = try options.load()
            let logger = bootstrapLogging(level: config.log.level, backend: config.log.backend)
            let report = try Migrator(directory: try MigrationsLocator.find(explicit: options.migrations), logger: logger)
                .migrate(url: config.database.url)
            print("applied \(report.applied.count) migration(s)\(report.applied.isEmpty ? "" : ": " + report.applied.joined(separator: ", ")); \(report.alreadyApplied) already applied")
            if !report.functionsApplied.isEmpty {
                print("applied \(report.functionsApplied.count) function file(s): \(report.functionsApplied.joined(separator: ", "))")
            }
        }
    }

    struct CheckConfig: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "check-config", abstract: "Validate a configuration file.")
        @OptionGroup var options: ConfigOptions

        func run() async throws {
            let config = try options.load()
            let problems = ProviderCatalog.problems(in: config)
            guard problems.isEmpty else {
                for problem in problems { FileHandle.standardError.write(Data("\(options.config): \(problem)\n".utf8)) }
                throw ExitCode.failure
            }
            print("\(options.config): ok (node \(config.node.name), \(config.queue.workers) workers, database \(config.database), providers \(config.providers.enabledNames.joined(separator: ", ")))")
        }
    }

    struct Render: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Render a timeline file to a film, in this process: no database, no daemon.",
            discussion: """
                The timeline is reeld's JSON timeline; each asset id is a file path, relative to the \
                timeline file's directory or absolute. The output's extension (.mp4 or .webm) sets \
                the format unless the timeline sets output.format, which it must then match.
                Exit status: 0 done, 64 usage error, 65 invalid timeline, 66 missing input file, \
                73 no such output directory, 130 interrupted (nothing written), 1 render failed.
                """)
        @Argument(help: "The timeline file (JSON).")
        var timeline: String
        @Option(name: [.short, .long], help: "The film to write, .mp4 or .webm (default: beside the timeline, named after it).")
        var output: String?
        @Option(help: "Threads for decoding, filtering and encoding.")
        var threads: Int = ProcessInfo.processInfo.activeProcessorCount
        @Option(name: .customLong("cache"), help: ArgumentHelp(
            "Directory for normalised copies of clips of another size or rate, kept between renders so they join by stream copy.",
            valueName: "dir"))
        var cacheDirectory: String?
        @Flag(help: "Decode, filter and encode every frame; never copy the clips' picture.")
        var noStreamCopy = false

        func validate() throws {
            guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        }

        func run() async throws {
            do {
                try await FileRender(
                    timeline: timeline, output: output, threads: threads, cacheDirectory: cacheDirectory, allowStreamCopy: !noStreamCopy
                ).run()
            } catch {
                FileHandle.standardError.write(Data("reeld render: \(error.message)\n".utf8))
                throw ExitCode(error.code.rawValue)
            }
        }
    }

    struct Demo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a film from a one-line brief, offline: throwaway PostgreSQL, local provider, real media.")
        @Argument(help: "The brief.")
        var brief: String = "A lighthouse keeper befriends a storm"
        @Option(help: "Number of scenes (1-12).")
        var scenes: Int = 3
        @Option(help: "State directory (database, storage).")
        var stateDir: String = ".reeld/demo"
        @Option(help: "Migrations directory.")
        var migrations: String?

        func validate() throws {
            guard (1...12).contains(scenes) else { throw ValidationError("--scenes must be 1…12") }
        }

        func run() async throws {
            let logger = bootstrapLogging(level: .warning, backend: .stderr)
            let state = URL(fileURLWithPath: stateDir, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
            try await ReelBench.Demo(brief: brief, scenes: scenes, stateDirectory: state,
                                      migrations: try MigrationsLocator.find(explicit: migrations)).run(logger: logger)
        }
    }

    struct Bench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Benchmarks that print figures.", subcommands: [Queue.self, Render.self, Providers.self])

        struct Render: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Render the standard workload (8 x 5 s 720p clips, crossfades, title, voice, ducked music) and a stream-copy cut; compare with the ffmpeg CLI when installed.")
            @Option(help: "Working directory for inputs and outputs (kept, so inputs are made once).")
            var directory: String = ".reeld/bench-render"
            @Option(help: "Repetitions; the median is reported.") var runs: Int = 3
            @Option(help: "Thread budget of the render.") var threads: Int = 2
            @Flag(help: .hidden) var inner = false
            @Option(help: .hidden) var timeline: String?
            @Option(help: .hidden) var output: String?

            func run() async throws {
                let directory = URL(fileURLWithPath: directory, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).standardizedFileURL
                if inner {
                    guard let timeline, let output else { throw ValidationError("--inner needs --timeline and --output") }
                    try RenderBenchmark.inner(timeline: URL(fileURLWithPath: timeline), output: URL(fileURLWithPath: output), directory: directory, threads: threads)
                    return
                }
                // The timed renders run in children of this very executable, so each peak RSS is the render's own.
                let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
                try RenderBenchmark(directory: directory, runs: runs, threads: threads, executable: executable).run()
            }
        }

        struct Providers: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "The HTTP client for provider APIs against a local server: overhead per call, many pending requests, a large download against the curl command; and a node holding many pending video tasks.")
            @Option(help: "Sequential calls timed for the overhead figure.") var calls: Int = 5000
            @Option(help: "Requests held pending at once.") var pending: Int = 1000
            @Option(help: "Size of the download, in MiB.") var downloadMib: Int = 1024
            @Option(help: "Downloads of each kind, alternated; medians are printed.") var runs: Int = 3
            @Option(help: "Directory the downloads are written to (and removed from).") var directory: String = NSTemporaryDirectory()
            @Option(help: "Video tasks one node holds pending at the provider (a throwaway database and an OpenAI stand-in).") var nodeTasks: Int = 1000
            @Option(help: "The node's workers (queue.workers).") var nodeWorkers: Int = 64
            @Option(help: "Polls each video is answered in_progress once all exist, before it completes.") var nodePolls: Int = 10
            @Option(help: "Migrations directory.") var migrations: String?
            @Flag(help: .hidden) var serve = false
            /// Set in the child that runs the node figure: the benchmark server's root.
            @Option(help: .hidden) var nodeServer: String?

            func validate() throws {
                guard calls > 0, pending > 0, downloadMib > 0, runs > 0 else { throw ValidationError("--calls, --pending, --download-mib and --runs must be positive") }
                guard nodeTasks > 0, nodeWorkers > 0, nodePolls >= 0 else { throw ValidationError("--node-tasks and --node-workers must be positive, --node-polls not negative") }
            }

            func run() async throws {
                if serve { return try ProviderBenchmark.serve(pendingPolls: nodePolls, videos: nodeTasks) }
                let logger = bootstrapLogging(level: .warning, backend: .stderr)
                if let nodeServer {
                    return try await NodeTasksBenchmark(
                        tasks: nodeTasks, workers: nodeWorkers, server: nodeServer,
                        migrations: try MigrationsLocator.find(explicit: migrations), directory: URL(fileURLWithPath: directory)
                    ).run(logger: logger)
                }
                // The server runs in a child of this very executable, so RSS figures are the client's alone.
                let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
                try await ProviderBenchmark(
                    calls: calls, pending: pending, downloadBytes: Int64(downloadMib) << 20, runs: runs,
                    directory: URL(fileURLWithPath: directory).appendingPathComponent("reeld-bench-providers-\(getpid())"), executable: executable,
                    node: .init(tasks: nodeTasks, workers: nodeWorkers, pendingPolls: nodePolls, migrations: try MigrationsLocator.find(explicit: migrations))
                ).run(logger: logger)
            }
        }

        struct Queue: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Drain throughput and pickup latency of no-op jobs; with --fair, also through the fair claim.")
            @Option(help: "No-op jobs to drain.") var jobs: Int = 100_000
            @Option(help: "Concurrent workers.") var workers: Int = 512
            @Option(help: "Jobs per claim.") var batch: Int = 256
            @Option(help: "Claims in flight at once.") var claimers: Int = 2
            @Option(help: "Pickup latency samples.") var samples: Int = 200
            @Flag(help: "Also drain users' jobs through the fair claim (limits on, set not to bind) and print both figures.")
            var fair = false
            @Option(help: "Users the fair drain spreads its jobs over.") var users: Int = 1000
            @Option(help: "Drains of each kind, alternated (unlimited, fair, unlimited, …); above 1, medians are printed too.")
            var rounds: Int = 1
            @Option(help: "Database URL (default: a throwaway cluster).") var databaseURL: String?
            @Option(help: "Migrations directory.") var migrations: String?

            func validate() throws {
                guard jobs > 0, workers > 0, batch > 0, samples > 0, claimers > 0 else {
                    throw ValidationError("--jobs, --workers, --batch, --samples and --claimers must be positive")
                }
                guard users > 0, rounds > 0 else { throw ValidationError("--users and --rounds must be positive") }
            }

            func run() async throws {
                let logger = bootstrapLogging(level: .warning, backend: .stderr)
                try await BenchDatabase.withMigrated(url: databaseURL, migrations: try MigrationsLocator.find(explicit: migrations), logger: logger) { url in
                    try await QueueBenchmark(jobs: jobs, workers: workers, batch: batch, latencySamples: samples, fair: fair, users: users, rounds: rounds, claimers: claimers)
                        .run(url: url, logger: logger)
                }
            }
        }
    }
}
