import Foundation
import Glibc
@testable import ReelIntake

/// A spool in a fresh temporary directory, removed by `remove()`.
struct TemporarySpool {
    let base: String
    var root: String { base + "/spool" }

    init() {
        base = NSTemporaryDirectory() + "reeld-intake-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
    }

    func configuration(
        maxFileBytes: Int = 1 << 20, submitters: SpoolSubmitters = SpoolSubmitters(), rescanInterval: Duration = .seconds(3600)
    ) -> SpoolConfiguration {
        SpoolConfiguration(root: root, maxFileBytes: maxFileBytes, submitters: submitters, rescanInterval: rescanInterval)
    }

    func path(_ directory: String, _ name: String) -> String { root + "/" + directory + "/" + name }

    /// Delivers a file the Maildir way: written in `tmp/`, renamed into `new/`.
    func drop(_ name: String, _ contents: String) {
        for directory in ["tmp", "new"] {
            try! FileManager.default.createDirectory(atPath: root + "/" + directory, withIntermediateDirectories: true)
        }
        let tmp = path("tmp", name)
        try! Data(contents.utf8).write(to: URL(fileURLWithPath: tmp))
        precondition(rename(tmp, path("new", name)) == 0)
    }

    func names(in directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root + "/" + directory)) ?? []).sorted()
    }

    func contents(_ directory: String, _ name: String) -> String? {
        FileManager.default.contents(atPath: path(directory, name)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The `.error.json` beside a rejected file, parsed.
    func rejectionReport(for name: String) -> RejectionReport? {
        guard let data = FileManager.default.contents(atPath: path("rejected", name + ".error.json")) else { return nil }
        return try? JSONDecoder().decode(RejectionReport.self, from: data)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: base)
    }
}

/// Polls `condition` until it holds or `timeout` passes; true if it held. The default is generous
/// because it costs a passing test nothing: in CI, with the render tests encoding video on both
/// cores, a watcher's first scan once took longer than the 2 s this used to allow.
func eventually(within timeout: Duration = .seconds(10), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return condition()
}
