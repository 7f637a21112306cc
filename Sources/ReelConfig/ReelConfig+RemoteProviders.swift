import ReelCore

extension ReelConfig {
    /// Reads `[providers.NAME]` for one remote provider from the `[providers]` table.
    static func readRemote(
        _ name: String, from providers: inout ConfigTable, environment: [String: String], soraEnabled: inout Bool
    ) throws(ConfigError) -> RemoteProvider {
        var t = try providers.table(name)
        var remote = RemoteProvider(name: name)
        remote.enabled = try t.bool("enabled", default: false)
        if let url = try t.string("base_url") {
            remote.baseURL = try checkedBaseURL(url, key: "base_url", in: t)
        }
        for (key, file) in RemoteProvider.credentialKeys[name] ?? [] {
            let path: String?
            if let given = try t.path(key, environment: environment) {
                path = given
            } else if remote.enabled {
                // The default is expanded only for an enabled provider, so that a node without
                // CREDENTIALS_DIRECTORY can leave providers it does not use unconfigured.
                guard let directory = environment["CREDENTIALS_DIRECTORY"] else {
                    throw t.error(
                        key,
                        "defaults to ${CREDENTIALS_DIRECTORY}/\(file), but CREDENTIALS_DIRECTORY is not set; set \(key) to the file holding the key"
                    )
                }
                path = directory + "/" + file
            } else {
                path = nil
            }
            if let path { remote.credentials.append(ProviderCredential(key: key, path: path)) }
        }
        var models = try t.table("models")
        for key in models.keys {
            let kind = JobKind(key)
            guard remote.models[kind] != nil else {
                let kinds = remote.models.keys.map(\.rawValue).sorted().map { "\"\($0)\"" }.joined(separator: ", ")
                throw models.error(key, "\(name) makes no \"\(key)\"; its kinds: \(kinds)")
            }
            guard let model = try models.string(key), !model.isEmpty, !model.contains(where: \.isWhitespace) else {
                throw models.error(key, "must be a model name without spaces")
            }
            remote.models[kind] = model
        }
        try models.finish()
        remote.connectTimeout = try t.seconds("connect_timeout_seconds", default: remote.connectTimeout, in: 1...300)
        remote.totalTimeout = try t.seconds("timeout_seconds", default: remote.totalTimeout, in: 1...86_400)
        if remote.totalTimeout < remote.connectTimeout {
            throw t.error("timeout_seconds", "must not be shorter than connect_timeout_seconds")
        }
        if name == "openai" {
            soraEnabled = try t.bool("sora_enabled", default: false)
        }
        try t.finish()
        return remote
    }

    /// An `https://` URL, or `http://` to this machine only (a test double on the loopback):
    /// a key must never cross the network in clear text.
    static func checkedBaseURL(_ url: String, key: String, in t: ConfigTable) throws(ConfigError) -> String {
        let trimmed = url.hasSuffix("/") ? String(url.dropLast()) : url
        let loopback = /http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:[0-9]+)?(\/.*)?/
        guard trimmed.wholeMatch(of: /https:\/\/[^\/\s?#]+(\/[^\s?#]*)?/) != nil || trimmed.wholeMatch(of: loopback) != nil else {
            throw t.error(key, "must be an https:// URL without query (http:// only to 127.0.0.1, localhost or [::1]), found \"\(url)\"")
        }
        return trimmed
    }

    /// Reads every enabled remote provider's key files into memory. Errors name the key and
    /// the file, never what a file holds.
    static func readCredentials(_ config: inout ReelConfig, source: String) throws(ConfigError) {
        for index in config.providers.remote.indices where config.providers.remote[index].enabled {
            let name = config.providers.remote[index].name
            for c in config.providers.remote[index].credentials.indices {
                let credential = config.providers.remote[index].credentials[c]
                config.providers.remote[index].credentials[c].value = try readSecret(
                    credential.path, key: "providers.\(name).\(credential.key)", source: source)
            }
        }
    }
}
