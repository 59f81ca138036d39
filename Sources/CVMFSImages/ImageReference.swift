/// An image as a recipe names it: `[scheme://]registry/repository[:tag][@digest]`, an OCI
/// image layout `oci:<dir>[:tag]`, or a `docker save` archive `docker-archive:<file>`.
/// Local inputs may be given the name they are published under with `… as registry/repo:tag`.
public struct ImageReference: Sendable, Hashable, CustomStringConvertible {
    public enum Source: Sendable, Hashable {
        case registry(scheme: String)
        case ociLayout(path: String)
        case dockerArchive(path: String)
    }

    public var source: Source
    /// Registry host (with port), e.g. `registry.hub.docker.com` or `127.0.0.1:5000`.
    public var registry: String
    public var repository: String
    public var tag: String?
    public var digest: Digest?

    public init(source: Source, registry: String, repository: String, tag: String?, digest: Digest?) {
        self.source = source
        self.registry = registry
        self.repository = repository
        self.tag = tag
        self.digest = digest
    }

    /// Parses a recipe input line. `insecure` makes registries without a scheme plain HTTP.
    public static func parse(_ text: String, insecure: Bool = false) throws(ImageReference.ParseError) -> ImageReference {
        var input = text.trimmingSpaces
        var alias: ImageReference?
        if let range = input.range(of: " as ") {
            let name = String(input[range.upperBound...]).trimmingSpaces
            input = String(input[..<range.lowerBound]).trimmingSpaces
            alias = try parse(name, insecure: insecure)
        }
        if input.hasPrefix("oci:") || input.hasPrefix("oci-layout:") || input.hasPrefix("docker-archive:") {
            return try parseLocal(input, alias: alias)
        }
        var scheme = insecure ? "http" : "https"
        if let range = input.range(of: "://") {
            scheme = String(input[..<range.lowerBound])
            guard scheme == "http" || scheme == "https" else { throw ParseError("'\(text)': scheme must be http or https") }
            input = String(input[range.upperBound...])
        }
        var digest: Digest?
        if let at = input.firstIndex(of: "@") {
            let digestText = String(input[input.index(after: at)...])
            guard let d = Digest(digestText) else { throw ParseError("'\(text)': '\(digestText)' is not a sha256 digest") }
            digest = d
            input = String(input[..<at])
        }
        var tag: String?
        if let colon = input.lastIndex(of: ":"), !input[colon...].contains("/") {
            tag = String(input[input.index(after: colon)...])
            input = String(input[..<colon])
            guard !tag!.isEmpty else { throw ParseError("'\(text)': empty tag") }
        }
        var parts = input.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard !parts.contains(where: \.isEmpty), !parts.isEmpty else { throw ParseError("'\(text)': empty path component") }
        // A first component with a dot or a colon, or "localhost", is a registry host (as docker).
        var registry = "registry.hub.docker.com"
        if parts.count > 1, parts[0].contains(".") || parts[0].contains(":") || parts[0] == "localhost" {
            registry = parts.removeFirst()
        }
        if registry == "docker.io" || registry == "index.docker.io" { registry = "registry.hub.docker.com" }
        if registry == "registry.hub.docker.com" && parts.count == 1 { parts.insert("library", at: 0) }
        for part in parts where part == "." || part == ".." {
            throw ParseError("'\(text)': '.' and '..' are not repository names")
        }
        if tag == nil && digest == nil { tag = "latest" }
        return ImageReference(source: .registry(scheme: scheme), registry: registry, repository: parts.joined(separator: "/"), tag: tag, digest: digest)
    }

    private static func parseLocal(_ input: String, alias: ImageReference?) throws(ParseError) -> ImageReference {
        let colon = input.firstIndex(of: ":")!
        let kind = input[..<colon]
        var rest = String(input[input.index(after: colon)...])
        guard !rest.isEmpty else { throw ParseError("'\(input)': missing path") }
        if kind == "docker-archive" {
            var ref = alias ?? ImageReference(source: .dockerArchive(path: rest), registry: "", repository: "", tag: nil, digest: nil)
            ref.source = .dockerArchive(path: rest)
            return ref
        }
        var tag: String?
        if let c = rest.lastIndex(of: ":"), !rest[c...].contains("/") {
            tag = String(rest[rest.index(after: c)...])
            rest = String(rest[..<c])
        }
        if var ref = alias {
            ref.source = .ociLayout(path: rest)
            if ref.tag == "latest" && tag != nil && !input.contains(" as ") { ref.tag = tag }
            return ref
        }
        // Without an alias the layout's directory name and tag become localhost/<dir>:<tag>.
        let base = rest.split(separator: "/").last.map(String.init) ?? "image"
        return ImageReference(source: .ociLayout(path: rest), registry: "localhost", repository: base.lowercased(), tag: tag ?? "latest", digest: nil)
    }

    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
        init(_ message: String) { description = message }
    }

    /// What users type under `/cvmfs/<repo>/`: `registry/repository:tag`, or
    /// `registry/repository:sha256:<hex>` for digest-only images (docs/format/container-images.md §2).
    public var publicPath: String {
        if let tag { return "\(registry)/\(repository):\(tag)" }
        return "\(registry)/\(repository):\(digest!.description)"
    }

    /// `.metadata/<registry>/<repository>:<tag>` (digest-only: without the tag part).
    public var metadataPath: String {
        if let tag { return ".metadata/\(registry)/\(repository):\(tag)" }
        return ".metadata/\(registry)/\(repository)"
    }

    public var hasWildcard: Bool { tag?.contains("*") ?? false }

    public var description: String {
        switch source {
        case .registry(let scheme):
            var text = "\(scheme)://\(registry)/\(repository)"
            if let tag { text += ":\(tag)" }
            if let digest { text += "@\(digest)" }
            return text
        case .ociLayout(let path): return "oci:\(path) (\(publicPath))"
        case .dockerArchive(let path): return "docker-archive:\(path)"
        }
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\r" || f == "\n" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" || l == "\n" { s.removeLast() }
        return String(s)
    }
}
