import Foundation
import ReelConfig
import ReelCore
import ReelDB
import ReelIntake
import ReelQueue
import ReelTestSupport
import Testing

extension ProcessTests.DocumentationExamplesTests {
    /// The repository's root (this file is Tests/ReelDaemonTests/…).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The ids the examples use: a user and a project of that user, made in the test database.
    static let user = UUID(uuidString: "2f1c9a7e-5b1e-4c7a-9d2e-0b8e6f1a3c44")!
    static let project = UUID(uuidString: "8d0f3b2a-1c4e-4f6a-b7d9-5e2a1c3b4d6f")!

    /// A fenced code block of a Markdown page: its language, its text, and where it is.
    struct Block: CustomStringConvertible {
        var language: String
        var text: String
        var file: String
        var line: Int
        var description: String { "\(file):\(line)" }
    }

    /// Every fenced block of README.md and docs/*.md.
    static func blocks() throws -> [Block] {
        var pages = ["README.md"]
        let docs = root.appendingPathComponent("docs")
        pages += try FileManager.default.contentsOfDirectory(atPath: docs.path).filter { $0.hasSuffix(".md") }.sorted().map { "docs/" + $0 }
        var found: [Block] = []
        for page in pages {
            let lines = try String(contentsOf: root.appendingPathComponent(page), encoding: .utf8).components(separatedBy: "\n")
            var index = 0
            while index < lines.count {
                let line = lines[index].trimmingCharacters(in: .whitespaces)
                guard line.hasPrefix("```") else { index += 1; continue }
                let language = String(line.dropFirst(3)).split(separator: " ").first.map(String.init) ?? ""
                let start = index + 1
                index += 1
                while index < lines.count, !lines[index].trimmingCharacters(in: .whitespaces).hasPrefix("```") { index += 1 }
                let body = lines[start..<min(index, lines.count)].joined(separator: "\n")
                found.append(Block(language: language, text: body, file: page, line: start))
                index += 1
            }
        }
        return found
    }

    /// The job files the docs show: `json` blocks holding an object with a `kind`, and the job
    /// file written by a shell example's here-document.
    static func jobFiles(in blocks: [Block]) -> [(Block, String)] {
        var files: [(Block, String)] = []
        for block in blocks {
            switch block.language {
            case "json":
                if case .object(let fields)? = try? JSONValue(parsing: Data(block.text.utf8)), fields["kind"] != nil {
                    files.append((block, block.text))
                }
            case "sh":
                for line in block.text.components(separatedBy: "\n") where line.hasPrefix(#"{"kind""#) {
                    files.append((block, line))
                }
            default: break
            }
        }
        return files
    }

    /// A test database with the examples' user and project.
    static func seededDatabase() async throws -> (url: String, database: Database) {
        let url = try TestDatabase.makeDatabase()
        let database = Database(configuration: .init(url: url, maxConnections: 2), logger: TestDatabase.logger)
        try await database.query("insert into auth.users (id, email) values ($1::uuid, 'ada@example.com')", [user])
        try await database.query(
            "insert into public.projects (id, user_id, title) values ($1::uuid, $2::uuid, 'The Lighthouse')", [project, user])
        return (url, database)
    }

    @Test func everyJobFileInTheDocsIsAcceptedAndQueued() async throws {
        let files = Self.jobFiles(in: try Self.blocks())
        #expect(files.count >= 3)
        let (_, database) = try await Self.seededDatabase()
        defer { database.close() }
        let queue = JobQueue(database: database)
        for (block, text) in files {
            let submission: JobSubmission
            do {
                submission = try JobFileDecoder().decode(Array(text.utf8))
            } catch {
                Issue.record("\(block): the job file is refused at intake: \(error)")
                continue
            }
            do {
                _ = try await queue.submit(submission)
            } catch {
                Issue.record("\(block): the job is refused at submit: \(error)")
            }
        }
    }

    @Test func everyConfigurationSnippetParses() throws {
        let snippets = try Self.blocks().filter { $0.language == "toml" }
        #expect(!snippets.isEmpty)
        for block in snippets {
            do {
                _ = try ReelConfig.parse(block.text, source: block.description, environment: ["CREDENTIALS_DIRECTORY": "/run/credentials/reeld.service"])
            } catch {
                Issue.record("\(block): \(error)")
            }
        }
        // The shipped file is a document too.
        _ = try ReelConfig.parse(
            try String(contentsOf: Self.root.appendingPathComponent("config/reeld.toml"), encoding: .utf8), source: "config/reeld.toml")
    }

    @Test func everySQLExampleRuns() async throws {
        let statements = try Self.blocks().filter { $0.language == "sql" }
        #expect(!statements.isEmpty)
        let (_, database) = try await Self.seededDatabase()
        defer { database.close() }
        for block in statements {
            do {
                try await database.query(block.text)
            } catch {
                Issue.record("\(block): \(error)")
            }
        }
    }

    @Test func everyTimelineInTheDocsDecodes() throws {
        let timelines = try Self.blocks().filter { block in
            guard block.language == "json", case .object(let fields)? = try? JSONValue(parsing: Data(block.text.utf8)) else { return false }
            return fields["video"] != nil
        }
        #expect(!timelines.isEmpty)
        for block in timelines {
            do {
                _ = try Timeline(json: Data(block.text.utf8))
            } catch {
                Issue.record("\(block): \(error)")
            }
        }
    }

    /// `reelctl` lines that name no placeholder (`<job id>`, `USER`, `FILE`) run as written
    /// against a database with the examples' user, and exit 0.
    @Test func everyRunnableReelctlLineExitsZero() async throws {
        var lines: [(Block, [String])] = []
        for block in try Self.blocks() where block.language == "sh" {
            for raw in block.text.components(separatedBy: "\n") {
                let command = raw.components(separatedBy: " #").first!.trimmingCharacters(in: .whitespaces)
                guard command.hasPrefix("reelctl "), !command.contains("<"), command.range(of: "[A-Z]{3,}", options: .regularExpression) == nil else {
                    continue
                }
                lines.append((block, command.split(separator: " ").dropFirst().map(String.init)))
            }
        }
        #expect(!lines.isEmpty)
        let (url, database) = try await Self.seededDatabase()
        defer { database.close() }
        let directory = try TemporaryDirectory(prefix: "reelctl-docs")
        defer { directory.remove() }
        for (n, (block, arguments)) in lines.enumerated() {
            let run = try await CompletedRun.of("reelctl", ["--database-url", url] + arguments, in: directory.url, label: "docs-\(n)")
            #expect(run.status == .exited(0), "\(block): reelctl \(arguments.joined(separator: " ")): \(run.errors)")
        }
    }
}
