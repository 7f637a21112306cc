/// A provider's settings, which hold its keys: `description` names everything but the keys, and
/// `debugDescription`, `dump` and `String(reflecting:)` show that description and nothing else,
/// so settings may be logged or dumped whole.
public protocol RedactedSettings: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {}

extension RedactedSettings {
    public var debugDescription: String { description }

    public var customMirror: Mirror { Mirror(self, children: ["description": description], displayStyle: .struct) }
}
