import CCurl
import Glibc

/// A URL checked against the client's rule, parsed by libcurl's own parser (the one that will
/// connect, so no second parser can read the host differently): `https` anywhere, `http` only
/// to a loopback address (the local servers of tests and benchmarks), nothing else.
struct RequestURL: Sendable, Hashable {
    var text: String
    var scheme: String
    /// Lower case, IPv6 without brackets.
    var host: String
    var port: Int?
    /// What descriptions and logs show: scheme, host, port and path; the query's contents
    /// (Gemini's `?key=`, signed storage URLs) and any user info are left out.
    var display: String

    static func check(_ text: String) -> Result<RequestURL, Refusal> {
        guard let handle = curl_url() else { return .failure(Refusal("cannot parse the URL")) }
        defer { curl_url_cleanup(handle) }
        guard curl_url_set(handle, CURLUPART_URL, text, UInt32(CURLU_NON_SUPPORT_SCHEME)) == CURLUE_OK else {
            return .failure(Refusal("not a valid URL"))
        }
        guard let scheme = part(handle, CURLUPART_SCHEME)?.lowercased(), var host = part(handle, CURLUPART_HOST)?.lowercased() else {
            return .failure(Refusal("not a valid URL"))
        }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let port = part(handle, CURLUPART_PORT).flatMap { Int($0) }
        let path = part(handle, CURLUPART_PATH) ?? "/"
        let query = part(handle, CURLUPART_QUERY) != nil
        let shownHost = host.contains(":") ? "[\(host)]" : host
        let display = "\(scheme)://\(shownHost)\(port.map { ":\($0)" } ?? "")\(path)\(query ? "?…" : "")"
        switch scheme {
        case "https": break
        case "http" where isLoopback(host): break
        case "http": return .failure(Refusal("plain http is only allowed to a loopback address; use https"))
        default: return .failure(Refusal("the scheme \(scheme) is not allowed; use https"))
        }
        return .success(RequestURL(text: text, scheme: scheme, host: host, port: port, display: display))
    }

    /// The display form of any text, for errors about URLs that did not parse.
    static func display(_ text: String) -> String {
        switch check(text) {
        case .success(let url): url.display
        case .failure:
            if let cut = text.firstIndex(where: { $0 == "?" || $0 == "#" }) { String(text[..<cut]) + "?…" } else { text }
        }
    }

    /// `localhost`, 127.0.0.0/8 and ::1, as literals; no name is resolved to decide.
    static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" { return true }
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return UInt32(bigEndian: v4.s_addr) >> 24 == 127 }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { bytes in bytes.prefix(15).allSatisfy { $0 == 0 } && bytes[15] == 1 }
        }
        return false
    }

    /// Why a URL is not allowed.
    struct Refusal: Error, Hashable {
        var reason: String
        init(_ reason: String) { self.reason = reason }
    }

    private static func part(_ handle: OpaquePointer, _ which: CURLUPart) -> String? {
        var value: UnsafeMutablePointer<CChar>?
        guard curl_url_get(handle, which, &value, 0) == CURLUE_OK, let value else { return nil }
        defer { curl_free(value) }
        return String(cString: value)
    }
}
