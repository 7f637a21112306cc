import Foundation
import ReelCore
import Testing
@testable import ReelIntake

@Suite struct JobFileSchemaTests {
    static let schemaPath = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("config/job-file.schema.json").path

    /// Set `REELD_WRITE_SCHEMA=1` to regenerate the committed schema after changing the rules.
    @Test func committedSchemaMatchesTheDecoderRules() throws {
        if ProcessInfo.processInfo.environment["REELD_WRITE_SCHEMA"] == "1" {
            try Data(JobFileSchema.text.utf8).write(to: URL(fileURLWithPath: Self.schemaPath))
        }
        let committed = try #require(FileManager.default.contents(atPath: Self.schemaPath), "missing \(Self.schemaPath)")
        #expect(
            try JSONValue(parsing: committed) == JobFileSchema.document,
            "config/job-file.schema.json is stale: run REELD_WRITE_SCHEMA=1 swift test --filter JobFileSchemaTests")
    }

    @Test func schemaNamesEveryJobKindWithItsArguments() throws {
        let schema = try JSONValue(parsing: try #require(FileManager.default.contents(atPath: Self.schemaPath)))
        #expect(schema["$schema"] == "https://json-schema.org/draft/2020-12/schema")
        let kinds = schema["properties"]?["kind"]?["enum"]?.arrayValue ?? []
        let conditions = schema["allOf"]?.arrayValue ?? []
        for kind in JobKind.all {
            #expect(kinds.contains(.string(kind.rawValue)), "\(kind) missing from properties.kind.enum")
            let condition = conditions.first { $0["if"]?["properties"]?["kind"]?["const"] == .string(kind.rawValue) }
            #expect(condition != nil, "\(kind) has no if/then for its args")
            #expect(schema["$defs"]?["args:" + kind.rawValue] != nil, "\(kind) has no args definition")
        }
    }
}
