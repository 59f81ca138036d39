/// Why a mount failed. Each case carries upstream's loader failure code
/// (docs/format/client-behaviour.md §1.1), the exit code scripts expect.
public enum MountError: Error, Sendable, CustomStringConvertible {
    case configuration(String)
    case cache(String)
    case signature(String)
    case catalog(String)
    case download(String)
    case fuse(String)
    /// The control socket (`cvmfs_talk`) could not be set up.
    case talk(String)

    public var description: String {
        switch self {
        case .configuration(let m): return "configuration: \(m)"
        case .cache(let m): return "cache: \(m)"
        case .signature(let m): return "signature: \(m)"
        case .catalog(let m): return "catalog: \(m)"
        case .download(let m): return "download: \(m)"
        case .fuse(let m): return "mount: \(m)"
        case .talk(let m): return "control socket: \(m)"
        }
    }

    /// Upstream's `loader::Failures` numbering.
    public var loaderCode: Int32 {
        switch self {
        case .configuration: return 2
        case .cache: return 9
        case .signature: return 15
        case .catalog: return 16
        case .download: return 16
        case .fuse: return 4
        case .talk: return 14
        }
    }
}
