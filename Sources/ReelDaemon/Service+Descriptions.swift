/// Service groups log each service by its description when it starts and stops. The default
/// description of a struct prints every stored property, which for these would be the whole
/// configuration and, for the reload service, the process's environment: keys an operator put
/// in `Environment=`. A short name is all a log line needs.
extension ReloadService: CustomStringConvertible {
    var description: String { "ReloadService" }
}

extension SpoolService: CustomStringConvertible {
    var description: String { "SpoolService" }
}

extension SystemdStatusService: CustomStringConvertible {
    var description: String { "SystemdStatusService" }
}

extension SchemaWatch: CustomStringConvertible {
    var description: String { "SchemaWatch" }
}
