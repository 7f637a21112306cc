import Logging
import Testing

@testable import ReelSystemd

@Suite struct LogFormattingTests {
    @Test(arguments: [
        ("job_id", "JOB_ID"),
        ("jobID", "JOB_ID"),
        ("JobID", "JOB_ID"),
        ("projectId", "PROJECT_ID"),
        ("job-kind", "JOB_KIND"),
        ("provider.name", "PROVIDER_NAME"),
        ("_private", "PRIVATE"),
        ("__x__", "X"),
        ("2fa", "F_2FA"),
        ("a  b", "A_B"),
        ("ünïcode", "N_CODE"),
        ("!!!", "FIELD"),
        ("message", "META_MESSAGE"),
        ("priority", "META_PRIORITY"),
    ])
    func metadataKeysBecomeValidJournalFieldNames(key: String, field: String) {
        #expect(JournalFieldName.sanitize(key) == field)
    }

    @Test func journalFieldNamesAreAtMost64Characters() {
        let name = JournalFieldName.sanitize(String(repeating: "ab_", count: 40))
        #expect(name.count <= 64)
        #expect(!name.hasSuffix("_"))
    }

    @Test(arguments: ["secret", "client_secret", "token", "accessToken", "password", "Authorization", "api_key", "apiKey", "OPENAI-API-KEY"])
    func sensitiveKeysAreRedacted(key: String) {
        #expect(LogRedaction.default.isSensitive(key))
        #expect(LogRedaction.default.redact([key: "hunter2"]) == [key: .string("<redacted>")])
    }

    @Test(arguments: ["job_id", "provider", "attempt", "tokens_used_by"])
    func ordinaryKeysAreKept(key: String) {
        // "tokens_used_by" contains TOKEN: better a redacted count than a leaked token.
        #expect(LogRedaction.default.isSensitive(key) == (key == "tokens_used_by"))
    }

    @Test func redactionReachesIntoNestedMetadata() {
        let redacted = LogRedaction.default.redact([
            "request": .dictionary(["url": "https://api", "headers": .dictionary(["authorization": "Bearer x"])]),
            "list": .array([.dictionary(["password": "p"])]),
        ])
        #expect(redacted["request"] == .dictionary(["url": "https://api", "headers": .dictionary(["authorization": "<redacted>"])]))
        #expect(redacted["list"] == .array([.dictionary(["password": "<redacted>"])]))
    }

    @Test func syslogPrioritiesFollowSwiftLogLevels() {
        #expect(Logger.Level.allCases.map(JournalLogHandler.priority(for:)) == [7, 7, 6, 5, 4, 3, 2])
    }

    @Test func journalEntryCarriesStructuredFields() {
        let fields = JournalLogHandler.fields(
            level: .warning, message: "Retrying job", metadata: ["job_id": "42", "attempt": "3", "api_key": "sk-1"],
            error: nil, identifier: "reeld", label: "reeld.queue", file: "ReelQueue/Worker.swift", line: 12,
            function: "run()", redaction: .default
        )
        #expect(
            fields == [
                "MESSAGE=Retrying job", "PRIORITY=4", "SYSLOG_IDENTIFIER=reeld", "LOGGER=reeld.queue",
                "CODE_FILE=ReelQueue/Worker.swift", "CODE_LINE=12", "CODE_FUNC=run()",
                "API_KEY=<redacted>", "ATTEMPT=3", "JOB_ID=42",
            ]
        )
    }

    @Test func stderrLineIsLogfmtWithRedactionAndQuoting() {
        let line = StderrLogHandler.format(
            timestamp: nil, level: .info, message: "Job claimed",
            metadata: ["job_id": "42", "token": "abc", "note": "two words", "quote": "say \"hi\"\n", "empty": ""],
            error: nil, redaction: .default
        )
        #expect(line == #"level=info msg="Job claimed" empty="" job_id=42 note="two words" quote="say \"hi\"\n" token=<redacted>"#)
    }

    @Test func journaldIsChosenOnlyWhenStderrIsTheJournalStream() {
        let stream = (device: UInt64(21), inode: UInt64(4242))
        #expect(LoggingBackend.detect(journalStream: "21:4242", stderr: stream) == .journald)
        #expect(LoggingBackend.detect(journalStream: "21:4243", stderr: stream) == .stderr)
        #expect(LoggingBackend.detect(journalStream: nil, stderr: stream) == .stderr)
        #expect(LoggingBackend.detect(journalStream: "garbage", stderr: stream) == .stderr)
        #expect(LoggingBackend.detect(journalStream: "21:4242", stderr: nil) == .stderr)
    }
}
