/// The proxies to use, read once from the environment as libcurl reads it: `http_proxy` for
/// http (lower case only: `HTTP_PROXY` can be set by a CGI request's `Proxy:` header),
/// `https_proxy` or `HTTPS_PROXY` for https, `all_proxy` or `ALL_PROXY` for both, and
/// `no_proxy` or `NO_PROXY` for the hosts reached directly.
///
/// Read once, at the client's creation, and handed to libcurl explicitly for every transfer:
/// the same rules, but a client's proxies no longer change with the process environment under
/// it, and a test can give a client its own.
public struct ProxySettings: Sendable, Hashable {
    public var http: String?
    public var https: String?
    /// libcurl's `no_proxy` list: host names, domains, addresses, `*` for all.
    public var noProxy: String?

    public init(http: String? = nil, https: String? = nil, noProxy: String? = nil) {
        self.http = http
        self.https = https
        self.noProxy = noProxy
    }

    /// From an environment such as `ProcessInfo.processInfo.environment`.
    public init(environment: [String: String]) {
        func first(_ names: String...) -> String? {
            names.lazy.compactMap { environment[$0] }.first { !$0.isEmpty }
        }
        http = first("http_proxy", "all_proxy", "ALL_PROXY")
        https = first("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")
        noProxy = first("no_proxy", "NO_PROXY")
    }

    func proxy(forScheme scheme: String) -> String? {
        scheme == "https" ? https : http
    }
}
