/// A history database or reflog that cannot be read or written.
public enum HistoryError: Error, Sendable, Equatable, CustomStringConvertible {
    case malformed(path: String, reason: String)
    case database(String)

    public var description: String {
        switch self {
        case .malformed(let path, let reason): return "\(path) is not a usable history or reflog database: \(reason)"
        case .database(let message): return message
        }
    }
}
