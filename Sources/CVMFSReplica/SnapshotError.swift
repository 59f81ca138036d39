/// Why a snapshot stopped. Each case names what and where; the replica's
/// previous revision is untouched in every case, since its manifest is
/// replaced only at the very end.
public enum SnapshotError: Error, Sendable, CustomStringConvertible {
    case configuration(String)
    /// The source's manifest, whitelist or certificate did not verify.
    case signature(url: String, reason: String)
    /// The source serves an older revision than the replica holds.
    case replay(url: String, served: String, held: String)
    case download(String)
    /// The replica folder (disk full, permissions).
    case local(path: String, reason: String)
    case catalog(String)

    public var description: String {
        switch self {
        case .configuration(let message): return message
        case let .signature(url, reason): return "\(url): refused, it does not verify: \(reason)"
        case let .replay(url, served, held):
            return "\(url) serves \(served), older than the replica's \(held): refused as a replayed manifest"
        case .download(let message): return "download failed: \(message)"
        case let .local(path, reason): return "\(path): \(reason)"
        case .catalog(let message): return message
        }
    }
}
