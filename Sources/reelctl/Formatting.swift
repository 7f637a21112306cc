import Foundation
import ReelCore

/// How reelctl writes times, durations, JSON and tables for people.
enum Formatting {
    /// `2026-11-25 05:48:37Z`: UTC, to the second, like the daemon's logs.
    static func time(_ date: Date?) -> String {
        guard let date else { return "—" }
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d-%02d-%02d %02d:%02d:%02dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
            parts.tm_hour, parts.tm_min, parts.tm_sec)
    }

    /// `850ms`, `4.2s`, `3m 04s`, `2h 05m`, `3d 4h`.
    static func duration(_ interval: TimeInterval?) -> String {
        guard let interval else { return "—" }
        let t = max(0, interval)
        if t < 1 { return "\(Int((t * 1000).rounded()))ms" }
        if t < 60 { return String(format: "%.1fs", t) }
        let s = Int(t.rounded())
        if s < 3600 { return String(format: "%dm %02ds", s / 60, s % 60) }
        if s < 86_400 { return String(format: "%dh %02dm", s / 3600, (s % 3600) / 60) }
        return "\(s / 86_400)d \((s % 86_400) / 3600)h"
    }

    /// A time with how far it is from now: `… (in 25s)` or `… (3m 04s ago)`.
    static func relative(_ date: Date?, now: Date) -> String {
        guard let date else { return "—" }
        let delta = date.timeIntervalSince(now)
        return "\(time(date)) (\(delta >= 0 ? "in \(duration(delta))" : "\(duration(-delta)) ago"))"
    }

    static func percent(_ progress: Double) -> String { "\(Int((progress * 100).rounded()))%" }

    static func uuid(_ id: UUID?) -> String { id?.lowercasedText ?? "—" }

    /// Indented JSON with sorted keys.
    static func prettyJSON(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        do {
            let text = String(decoding: try encoder.encode(value), as: UTF8.self)
            // Foundation prints an empty object or array over three lines; people expect {} and [].
            return text.replacing(#/\{\n\s*\n\s*\}/#, with: "{}").replacing(#/\[\n\s*\n\s*\]/#, with: "[]")
        } catch {
            return "\(value)"
        }
    }

    /// Lines indented by `prefix`.
    static func indented(_ text: String, by prefix: String = "  ") -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { prefix + $0 }.joined(separator: "\n")
    }

    /// Left-aligned columns separated by two spaces, header first.
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            let line = row.indices.map { column in
                row[column].padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
            return String(line.reversed().drop(while: { $0 == " " }).reversed())
        }.joined(separator: "\n")
    }
}
