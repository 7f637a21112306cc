import ReelCore

/// One request: method, URL, headers, body and, optionally, limits of its own.
///
/// The URL must be `https`, or `http` to a loopback address (local test servers); anything else
/// is refused before a byte is sent.
public struct HTTPRequest: Sendable {
    public var method: HTTPMethod
    public var url: String
    public var headers: HTTPHeaders
    public var body: [UInt8]?
    /// Nil: the client's defaults.
    public var options: HTTPRequestOptions?

    public init(method: HTTPMethod = .get, url: String, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8]? = nil, options: HTTPRequestOptions? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.options = options
    }

    /// A request with a JSON body (`Content-Type: application/json`, `Accept: application/json`).
    public static func json(_ method: HTTPMethod = .post, url: String, body: JSONValue, headers: HTTPHeaders = HTTPHeaders(), options: HTTPRequestOptions? = nil) -> HTTPRequest {
        var bytes: [UInt8] = []
        body.write(to: &bytes)
        var headers = headers
        if !headers.contains("Content-Type") { headers.add("Content-Type", "application/json") }
        if !headers.contains("Accept") { headers.add("Accept", "application/json") }
        return HTTPRequest(method: method, url: url, headers: headers, body: bytes, options: options)
    }

    /// A `multipart/form-data` request (OpenAI's video and image edit uploads).
    public static func multipart(_ method: HTTPMethod = .post, url: String, form: MultipartForm, headers: HTTPHeaders = HTTPHeaders(), options: HTTPRequestOptions? = nil) -> HTTPRequest {
        var headers = headers
        headers.set("Content-Type", form.contentType)
        return HTTPRequest(method: method, url: url, headers: headers, body: form.encoded(), options: options)
    }
}

extension HTTPRequest: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Method, URL without its query (which may hold a key) and headers with secrets redacted.
    public var description: String { "\(method) \(RequestURL.display(url)) \(headers)" }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: ["method": method, "url": RequestURL.display(url), "headers": headers, "bodyBytes": body?.count ?? 0], displayStyle: .struct)
    }
}
