extension Array where Element == Double {
    /// The middle value (the mean of the two middle ones for an even count); 0 when empty.
    /// The benchmarks report medians: this machine's speed swings too much for a mean.
    var median: Double {
        let sorted = self.sorted()
        guard !sorted.isEmpty else { return 0 }
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}
