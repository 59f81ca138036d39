/// Why a publish failed, naming the file or object involved.
public enum PublishError: Error, CustomStringConvertible {
    case source(path: String, reason: String)
    case output(path: String, reason: String)
    case invalidOptions(String)
    case existingRepository(path: String, reason: String)
    case catalog(path: String, reason: String)
    case keys(String)

    public var description: String {
        switch self {
        case let .source(path, reason): return "source \(path): \(reason)"
        case let .output(path, reason): return "output \(path): \(reason)"
        case let .invalidOptions(reason): return reason
        case let .existingRepository(path, reason): return "existing repository in \(path): \(reason)"
        case let .catalog(path, reason): return "catalog for \(path): \(reason)"
        case let .keys(reason): return "keys: \(reason)"
        }
    }
}
