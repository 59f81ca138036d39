/// Why a conversion failed. Every case names the image, blob or path involved, so that the
/// message alone tells the operator what to fix.
public enum ImageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The recipe file cannot be read or is malformed.
    case recipe(String)
    /// An image reference that cannot be parsed.
    case reference(String)
    /// The registry could not be reached or answered with a transport error.
    case network(url: String, reason: String)
    /// The registry answered with an unexpected HTTP status.
    case http(url: String, status: Int, body: String)
    /// Authentication failed or was refused.
    case authentication(String)
    /// Tag, manifest or blob that does not exist.
    case notFound(String)
    /// A manifest or config the converter cannot use.
    case manifest(String)
    /// Downloaded or stored content does not match its digest.
    case digestMismatch(what: String, expected: String, actual: String)
    /// A layer tarball that is malformed or unsafe.
    case layer(String)
    /// A tar entry that would be written outside the root file system.
    case unsafePath(String)
    /// A local file operation failed.
    case io(path: String, reason: String)
    /// Publishing the staged tree failed.
    case publish(String)

    public var description: String {
        switch self {
        case .recipe(let m): return "recipe: \(m)"
        case .reference(let m): return "image reference: \(m)"
        case .network(let url, let reason): return "cannot reach \(url): \(reason)"
        case .http(let url, let status, let body):
            let text = body.isEmpty ? "" : ": \(body.prefix(300))"
            return "\(url): HTTP \(status)\(text)"
        case .authentication(let m): return "authentication: \(m)"
        case .notFound(let m): return "not found: \(m)"
        case .manifest(let m): return "manifest: \(m)"
        case .digestMismatch(let what, let expected, let actual):
            return "digest mismatch for \(what): expected \(expected), got \(actual)"
        case .layer(let m): return "layer: \(m)"
        case .unsafePath(let m): return "unsafe tar entry: \(m)"
        case .io(let path, let reason): return "\(path): \(reason)"
        case .publish(let m): return "publish: \(m)"
        }
    }
}
