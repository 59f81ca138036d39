/// Why reading a repository failed, naming the file, object or path.
public enum RepositoryError: Error, Sendable, CustomStringConvertible {
    /// A file could not be fetched from the source (missing, unreadable, HTTP error).
    case unavailable(path: String, reason: String)
    case signature(SignatureError)
    case object(path: String, ObjectError)
    case catalog(CatalogError)
    case notFound(path: String)
    case notARegularFile(path: String)
    case local(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unavailable(path, reason): return "\(path): \(reason)"
        case let .signature(error): return "\(error)"
        case let .object(path, error): return "\(error) (for \(path))"
        case let .catalog(error): return "\(error)"
        case let .notFound(path): return "\(path): no such file or directory in the repository"
        case let .notARegularFile(path): return "\(path): not a regular file"
        case let .local(path, reason): return "\(path): \(reason)"
        }
    }
}
