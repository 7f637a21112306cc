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
