extension OpenAIProvider {
    /// Text and images answer within their call, so an answer lost with a crashed node is lost
    /// for good: calling again costs what a retry would. Sora takes no client reference, so a
    /// video whose create may have been taken cannot be found again, and a second create could
    /// be a second payment.
    public func recoveryRule(for kind: GenerationKind) -> RecoveryRule {
        kind == .video ? .outcomeUnknown : .resubmit
    }
}
