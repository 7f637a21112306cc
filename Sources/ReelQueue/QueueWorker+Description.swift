/// Service groups log each service by its description when it starts and stops: a short
/// name, never the configuration or the database behind it.
extension QueueWorker: CustomStringConvertible {
    public var description: String { "QueueWorker" }
}

extension QueueHousekeeper: CustomStringConvertible {
    public var description: String { "QueueHousekeeper" }
}
