/// Configuration that cannot run, named: a setting that is missing, or a file reeld needs and
/// cannot find.
public struct ConfigurationProblem: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
