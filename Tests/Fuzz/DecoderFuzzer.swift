// libFuzzer entry point for ReelCore's decoders: the JSON parser (which every job file goes
// through first) and the timeline decoder. Not a SwiftPM target: `scripts/fuzz-intake --libfuzzer`
// compiles it together with Sources/ReelCore into one module with `-sanitize=fuzzer,address`.
//
// Any crash, trap, leak or memory error is a finding; a refusal (a thrown error) is not.

import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func reeldFuzzDecoders(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    if let value = try? JSONValue(parsing: bytes) {
        // What parses prints, and parses back the same.
        guard (try? JSONValue(parsing: Array(value.jsonText.utf8))) == value else { fatalError("JSON round trip changed the value") }
    }
    if let timeline = try? Timeline(json: bytes) {
        guard (try? Timeline(json: timeline.jsonData)) == timeline else { fatalError("timeline round trip changed the timeline") }
        _ = try? timeline.validate(assets: [:])
    }
    return 0
}
