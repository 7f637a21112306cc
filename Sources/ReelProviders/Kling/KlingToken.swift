import Crypto
import Foundation
import ReelCore

/// The JWT Kling takes as `Authorization: Bearer`: HS256 over `{"iss", "exp", "nbf"}`, the access
/// key as issuer, signed with the secret key's UTF-8 bytes (not base64-decoded), valid 30 minutes
/// and from 5 seconds in the past so that a server clock slightly behind ours accepts it.
struct KlingToken: Sendable, Hashable {
    static let lifetime: Int64 = 1800
    static let skew: Int64 = 5

    let value: String
    /// Unix seconds after which Kling refuses the token (1004).
    let expires: Int64

    /// A token issued at `now` (Unix seconds).
    init(accessKey: String, secretKey: String, now: Int64) {
        self.init(accessKey: accessKey, secretKey: secretKey, expires: now + Self.lifetime, notBefore: now - Self.skew)
    }

    init(accessKey: String, secretKey: String, expires: Int64, notBefore: Int64) {
        // Written by hand, not through a dictionary: the claims keep the documented order, so the
        // same keys and times always give the same token (and the notes' test vector).
        var payload = Array(#"{"iss":"#.utf8)
        JSONValue.writeString(accessKey, to: &payload)
        payload += Array(#","exp":\#(expires),"nbf":\#(notBefore)}"#.utf8)
        let header = Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8)
        let signingInput = Self.base64URL(header) + "." + Self.base64URL(payload)
        let mac = HMAC<SHA256>.authenticationCode(for: Array(signingInput.utf8), using: SymmetricKey(data: Array(secretKey.utf8)))
        value = signingInput + "." + Self.base64URL(Array(mac))
        self.expires = expires
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
