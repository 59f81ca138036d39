import Glibc

/// The registry v2 API for one registry: manifests, blobs and tag lists, with bearer-token
/// (`WWW-Authenticate: Bearer realm=…`) and basic authentication.
/// Not thread-safe: `RegistrySource` lends each client to one thread at a time.
final class RegistryClient: @unchecked Sendable {
    let scheme: String
    let registry: String
    private let http: HTTPClient
    private let credentials: Credentials?
    /// Bearer tokens by scope (`repository:<name>:pull`).
    private var tokens: [String: String] = [:]
    private var useBasic = false

    init(scheme: String, registry: String, credentials: Credentials?) throws(ImageError) {
        self.scheme = scheme
        self.registry = registry
        self.credentials = credentials
        http = try HTTPClient()
    }

    private func url(_ repository: String, _ tail: String) -> String {
        "\(scheme)://\(registry)/v2/\(repository)/\(tail)"
    }

    /// GET with authentication: on a 401 the challenge is answered once and the request repeated.
    func get(_ url: String, repository: String, accept: String? = nil,
             sink: ((UnsafeRawBufferPointer) throws(ImageError) -> Void)? = nil) throws(ImageError) -> HTTPClient.Response {
        let scope = "repository:\(repository):pull"
        var response = try http.get(url, headers: headers(scope: scope, accept: accept), sink: sink)
        if response.status == 401 {
            try authenticate(challenge: response.headers["www-authenticate"] ?? "", scope: scope, url: url)
            response = try http.get(url, headers: headers(scope: scope, accept: accept), sink: sink)
            if response.status == 401 {
                throw .authentication("\(url): the registry refused the credentials (HTTP 401)")
            }
        }
        return response
    }

    private func headers(scope: String, accept: String?) -> [String] {
        var lines: [String] = []
        if let accept { lines.append("Accept: \(accept)") }
        if let token = tokens[scope] {
            lines.append("Authorization: Bearer \(token)")
        } else if useBasic, let credentials {
            lines.append(credentials.basicHeader)
        }
        return lines
    }

    private func authenticate(challenge: String, scope: String, url: String) throws(ImageError) {
        let lower = challenge.lowercased()
        if lower.hasPrefix("basic") {
            guard credentials != nil else {
                throw .authentication("\(registry) asks for a user name and password: set DUCC_AUTH_REGISTRIES and DUCC_<R>_IDENT/_USER/_PASS")
            }
            useBasic = true
            return
        }
        guard lower.hasPrefix("bearer") else {
            throw .authentication("\(url): unsupported authentication challenge '\(challenge)'")
        }
        let parameters = Self.challengeParameters(String(challenge.dropFirst("bearer".count)))
        guard let realm = parameters["realm"] else { throw .authentication("\(url): bearer challenge without realm") }
        var query: [String] = []
        if let service = parameters["service"] { query.append("service=\(Self.percentEncode(service))") }
        query.append("scope=\(Self.percentEncode(parameters["scope"] ?? scope))")
        let tokenURL = realm + (realm.contains("?") ? "&" : "?") + query.joined(separator: "&")
        let response = try http.get(tokenURL, headers: credentials.map { [$0.basicHeader] } ?? [])
        guard response.status == 200 else {
            throw .authentication("token request to \(realm) failed: HTTP \(response.status)")
        }
        struct Token: Decodable { var token: String?; var access_token: String? }
        let decoded = try JSON.decode(Token.self, response.body, what: "token from \(realm)")
        guard let token = decoded.token ?? decoded.access_token else {
            throw .authentication("token response from \(realm) has no token")
        }
        tokens[scope] = token
    }

    static func challengeParameters(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        var rest = Substring(text)
        while true {
            rest = rest.drop(while: { $0 == " " || $0 == "," })
            guard let eq = rest.firstIndex(of: "=") else { break }
            let key = rest[..<eq].trimmingCharactersSpaces.lowercased()
            rest = rest[rest.index(after: eq)...]
            var value = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                let end = rest.firstIndex(of: "\"") ?? rest.endIndex
                value = String(rest[..<end])
                rest = end < rest.endIndex ? rest[rest.index(after: end)...] : rest[end...]
            } else {
                let end = rest.firstIndex(of: ",") ?? rest.endIndex
                value = String(rest[..<end])
                rest = rest[end...]
            }
            result[key] = value
        }
        return result
    }

    static func percentEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            let c = Character(Unicode.Scalar(byte))
            if c.isLetter && byte < 0x80 || c.isNumber && byte < 0x80 || "-_.~".contains(c) { out.append(c) } else {
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(2)
            }
        }
        return out
    }

    // MARK: API calls

    /// The manifest for a tag or digest: its bytes, media type and digest (verified when asked by digest).
    func manifest(repository: String, reference: String) throws(ImageError) -> (bytes: [UInt8], mediaType: String?, digest: Digest) {
        let target = url(repository, "manifests/\(reference)")
        let response = try get(target, repository: repository, accept: MediaType.accept)
        if response.status == 404 {
            throw .notFound("\(registry)/\(repository):\(reference) (manifest unknown to the registry)")
        }
        guard response.status == 200 else { throw .http(url: target, status: response.status, body: String(decoding: response.body, as: UTF8.self)) }
        let digest = SHA256Hasher.digest(response.body)
        if let expected = Digest(reference), expected != digest {
            throw .digestMismatch(what: "manifest \(registry)/\(repository)@\(reference)", expected: expected.description, actual: digest.description)
        }
        if let header = response.headers["docker-content-digest"], let announced = Digest(header), announced != digest {
            throw .digestMismatch(what: "manifest \(registry)/\(repository):\(reference)", expected: announced.description, actual: digest.description)
        }
        return (response.body, response.headers["content-type"], digest)
    }

    /// Streams a blob to `sink`; the caller verifies the digest.
    func blob(repository: String, digest: Digest, sink: @escaping (UnsafeRawBufferPointer) throws(ImageError) -> Void) throws(ImageError) {
        let target = url(repository, "blobs/\(digest)")
        let response = try get(target, repository: repository, sink: sink)
        if response.status == 404 { throw .notFound("blob \(digest) in \(registry)/\(repository)") }
        guard response.status == 200 else { throw .http(url: target, status: response.status, body: String(decoding: response.body, as: UTF8.self)) }
    }

    /// All tags of a repository, following `Link: <…>; rel="next"` pages.
    func tags(repository: String) throws(ImageError) -> [String] {
        var next: String? = url(repository, "tags/list")
        var tags: [String] = []
        struct TagList: Decodable { var tags: [String]? }
        var pages = 0
        while let target = next, pages < 1000 {
            pages += 1
            let response = try get(target, repository: repository)
            if response.status == 404 { throw .notFound("repository \(registry)/\(repository)") }
            guard response.status == 200 else { throw .http(url: target, status: response.status, body: String(decoding: response.body, as: UTF8.self)) }
            tags += try JSON.decode(TagList.self, response.body, what: "tag list of \(registry)/\(repository)").tags ?? []
            next = nil
            if let link = response.headers["link"], link.contains("rel=\"next\""),
               let open = link.firstIndex(of: "<"), let close = link.firstIndex(of: ">"), open < close {
                let path = String(link[link.index(after: open)..<close])
                next = path.hasPrefix("http") ? path : "\(scheme)://\(registry)\(path)"
            }
        }
        return tags
    }
}

extension Substring {
    var trimmingCharactersSpaces: String { String(self).trimmingSpaces }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
