import Foundation
import ReelCore
import Testing

@Suite struct JSONValueTests {
    @Test func roundTripsKeepingIntegersAsIntegers() throws {
        let text = #"{"a":1,"b":[true,null,"x"],"c":2.5}"#
        let value = try JSONValue(parsing: Array(text.utf8))
        #expect(value["a"] == .int(1))
        #expect(value["c"] == .double(2.5))
        #expect(value.jsonText == text)
    }

    @Test func workflowStepsRunInTheSeedsOrder() {
        #expect(WorkflowStep.allCases.map(\.rawValue) == ["idea", "storyboard", "hero_shot", "frames", "clips", "audio", "edit", "export"])
        #expect(WorkflowStep.clips.next == .audio)
        #expect(WorkflowStep.export.next == nil)
    }
}

@Suite struct UUIDTextTests {
    @Test func lowercasedTextMatchesFoundation() {
        for _ in 0..<100 {
            let id = UUID()
            #expect(id.lowercasedText == id.uuidString.lowercased())
            #expect(UUID(text: id.lowercasedText) == id)
            #expect(UUID(text: id.uuidString) == id)
        }
    }

    @Test func malformedTextIsNil() {
        for text in ["", "8d0f3b2a1c4e4f6ab7d95e2a1c3b4d6f", "8d0f3b2a-1c4e-4f6a-b7d9-5e2a1c3b4d6", "8d0f3b2a-1c4e-4f6a-b7d9_5e2a1c3b4d6f",
                     "8d0f3b2a-1c4e-4f6a-b7d9-5e2a1c3b4d6g", "{8d0f3b2a-1c4e-4f6a-b7d9-5e2a1c3b4d6f}"] {
            #expect(UUID(text: text) == nil, "\(text)")
        }
    }
}
