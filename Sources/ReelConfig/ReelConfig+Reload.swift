extension ReelConfig {
    /// The configuration a running node moves to when it reloads `new`: the parts that apply
    /// live — `[tiers.*]`, `[providers.limits.*]`, `[costs.*]`, `[deadlines.*]` and `[log] level` — from `new`,
    /// everything else as this node runs it, until a restart.
    ///
    /// `providers.default` stays too: the node's handlers chose their provider at start, and
    /// the default the database records must stay the one they use.
    public func applyingReloadable(from new: ReelConfig) -> ReelConfig {
        var next = self
        next.tiers = new.tiers
        next.costs = new.costs
        next.deadlines = new.deadlines
        next.providers.limits = new.providers.limits
        next.log.level = new.log.level
        return next
    }

    /// The keys of the live parts that differ in `new`, for the log of a reload.
    public func reloadableChanges(in new: ReelConfig) -> [String] {
        var keys: [String] = []
        if tiers != new.tiers { keys.append("tiers") }
        if providers.limits != new.providers.limits { keys.append("providers.limits") }
        if costs != new.costs { keys.append("costs") }
        if deadlines != new.deadlines { keys.append("deadlines") }
        if log.level != new.log.level { keys.append("log.level") }
        return keys
    }

    /// The keys whose value differs in `new` but that take effect only when the node restarts,
    /// named as in the config file. Never their values: `database.url` may hold a password.
    public func restartOnlyChanges(in new: ReelConfig) -> [String] {
        var keys: [String] = []
        func compare<Value: Equatable>(_ key: String, _ path: KeyPath<ReelConfig, Value>) {
            if self[keyPath: path] != new[keyPath: path] { keys.append(key) }
        }
        compare("node.name", \.node.name)
        compare("http.ca_file", \.http.caFile)
        // The URL as read, so that a changed url_file's contents count as a change too.
        compare("database.url", \.database.url)
        compare("database.url_file", \.database.urlFile)
        compare("database.pool_size", \.database.poolSize)
        compare("queue.workers", \.queue.workers)
        compare("queue.claim_batch", \.queue.claimBatch)
        compare("queue.claimers", \.queue.claimers)
        compare("queue.lease_seconds", \.queue.lease)
        compare("queue.heartbeat_seconds", \.queue.heartbeatInterval)
        compare("queue.rescue_interval_seconds", \.queue.rescueInterval)
        compare("queue.poll_interval_seconds", \.queue.pollInterval)
        compare("queue.shutdown_grace_seconds", \.queue.shutdownGrace)
        compare("queue.retention_days", \.queue.retention)
        compare("queue.prune_interval_seconds", \.queue.pruneInterval)
        compare("queue.backoff_base_seconds", \.queue.backoffBase)
        compare("queue.backoff_cap_seconds", \.queue.backoffCap)
        compare("queue.archive", \.queue.archive)
        compare("intake.spool_dir", \.intake.spoolDirectory)
        compare("intake.max_file_bytes", \.intake.maxFileBytes)
        compare("intake.submitters", \.intake.submitters)
        compare("intake.rescan_seconds", \.intake.rescanInterval)
        compare("storage.root", \.storage.root)
        compare("providers.default", \.providers.defaultProvider)
        compare("providers.local.enabled", \.providers.local.enabled)
        compare("providers.local.video_delay_ms", \.providers.local.videoDelay)
        compare("providers.local.tasks_dir", \.providers.local.tasksDirectory)
        for (running, next) in zip(providers.remote, new.providers.remote) {
            let table = "providers.\(running.name)"
            if running.enabled != next.enabled { keys.append("\(table).enabled") }
            if running.baseURL != next.baseURL { keys.append("\(table).base_url") }
            for (key, _) in RemoteProvider.credentialKeys[running.name] ?? [] {
                let a = running.credentials.first { $0.key == key }
                let b = next.credentials.first { $0.key == key }
                // A file whose contents changed counts too: a rotated key needs a restart.
                if a?.path != b?.path || a?.value != b?.value { keys.append("\(table).\(key)") }
            }
            if running.models != next.models { keys.append("\(table).models") }
            if running.connectTimeout != next.connectTimeout { keys.append("\(table).connect_timeout_seconds") }
            if running.totalTimeout != next.totalTimeout { keys.append("\(table).timeout_seconds") }
        }
        compare("providers.openai.sora_enabled", \.providers.soraEnabled)
        compare("routing", \.routing)
        compare("render.workers", \.render.workers)
        compare("render.threads_per_render", \.render.threadsPerRender)
        compare("render.cache_dir", \.render.cacheDirectory)
        compare("render.cache_max_mb", \.render.cacheMaxMegabytes)
        compare("log.backend", \.log.backend)
        return keys
    }
}
