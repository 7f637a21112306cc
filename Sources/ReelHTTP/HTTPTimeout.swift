/// Which limit ended an exchange.
public enum HTTPTimeout: String, Sendable, Hashable {
    /// No connection within the connect timeout: nothing was sent.
    case connect
    /// The whole exchange took longer than the total timeout.
    case total
    /// The transfer moved slower than the low-speed limit for its window.
    case lowSpeed = "low speed"
}
