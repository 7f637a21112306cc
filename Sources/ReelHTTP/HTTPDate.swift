import Foundation
import Glibc

/// HTTP-date (RFC 9110 §5.6.7): the IMF-fixdate every server sends today, and the two obsolete
/// forms a recipient must still accept. Parsed by hand: a `DateFormatter` is slow to make,
/// locale-bound and not `Sendable`.
enum HTTPDate {
    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    static func parse(_ text: String) -> Date? {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
        // IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT" → [Sun, 06, Nov, 1994, 08:49:37, GMT]
        if words.count == 6, words[5] == "GMT", let day = Int(words[1]), let year = Int(words[3]) {
            return make(year: year, month: words[2], day: day, time: words[4])
        }
        // RFC 850 "Sunday, 06-Nov-94 08:49:37 GMT" → [Sunday, 06-Nov-94, 08:49:37, GMT]
        if words.count == 4, words[3] == "GMT" {
            let date = words[1].split(separator: "-").map(String.init)
            guard date.count == 3, let day = Int(date[0]), let short = Int(date[2]) else { return nil }
            // Two-digit years: RFC 9110 reads one more than 50 years ahead as the past century.
            let year = short < 100 ? (short < 70 ? 2000 + short : 1900 + short) : short
            return make(year: year, month: date[1], day: day, time: words[2])
        }
        // asctime "Sun Nov  6 08:49:37 1994" → [Sun, Nov, 6, 08:49:37, 1994]
        if words.count == 5, let day = Int(words[2]), let year = Int(words[4]) {
            return make(year: year, month: words[1], day: day, time: words[3])
        }
        return nil
    }

    private static func make(year: Int, month: String, day: Int, time: String) -> Date? {
        guard let monthIndex = months.firstIndex(of: month.lowercased()) else { return nil }
        let clock = time.split(separator: ":").compactMap { Int($0) }
        guard clock.count == 3, (1...31).contains(day), (0...23).contains(clock[0]), (0...59).contains(clock[1]), (0...60).contains(clock[2]) else {
            return nil
        }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(monthIndex)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(clock[0])
        parts.tm_min = Int32(clock[1])
        parts.tm_sec = Int32(clock[2])
        return Date(timeIntervalSince1970: TimeInterval(timegm(&parts)))
    }
}
