/// A fully qualified repository name such as `atlas.cern.ch`.
///
/// Validated like upstream's `RepositorySanitizer`: only `[A-Za-z0-9._-]`, at most 60 characters.
public struct RepositoryName: Hashable, Sendable, CustomStringConvertible {
    /// Longest name accepted on the command line (upstream `RepositorySanitizer`).
    public static let maximumLength = 60

    /// The fully qualified name.
    public let fqrn: String

    /// Accepts `name` exactly as given (no default domain, no path stripping).
    public init(validating name: String) throws(ConfigurationError) {
        try Self.check(name)
        fqrn = name
    }

    /// Turns a mount argument into a repository name, as `mount.cvmfs` does:
    /// a leading `/` keeps only the last path component, the result is validated,
    /// and a name without a dot gets `.<defaultDomain>` appended.
    public static func sanitize(_ argument: String, defaultDomain: String?) throws(ConfigurationError) -> RepositoryName {
        var name = argument
        if name.hasPrefix("/") {
            let components = name.split(separator: "/", omittingEmptySubsequences: true)
            name = components.last.map(String.init) ?? ""
        }
        try check(name)
        if !name.contains(".") {
            guard let domain = defaultDomain, !domain.isEmpty else {
                throw .invalidRepositoryName(argument, reason: "no domain and CVMFS_DEFAULT_DOMAIN is not set")
            }
            name += "." + domain
        }
        return RepositoryName(unchecked: name)
    }

    private init(unchecked: String) { fqrn = unchecked }

    /// The first label: `atlas` for `atlas.cern.ch` (the `@org@` template).
    public var org: String {
        String(fqrn.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)[0])
    }

    /// Everything after the first label (`cern.ch`), or nil for a name without a dot.
    public var domain: String? {
        guard let dot = fqrn.firstIndex(of: ".") else { return nil }
        return String(fqrn[fqrn.index(after: dot)...])
    }

    public var description: String { fqrn }

    static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"):
            return true
        default:
            return false
        }
    }

    private static func check(_ name: String) throws(ConfigurationError) {
        if name.isEmpty { throw .invalidRepositoryName(name, reason: "empty") }
        if name.utf8.count > maximumLength {
            throw .invalidRepositoryName(name, reason: "longer than \(maximumLength) characters")
        }
        if !name.utf8.allSatisfy(isAllowed) {
            throw .invalidRepositoryName(name, reason: "only letters, digits, '.', '-' and '_' are allowed")
        }
    }
}
