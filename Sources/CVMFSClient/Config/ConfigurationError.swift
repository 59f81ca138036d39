/// A configuration problem, naming the parameter and the file that set it where there is one.
public enum ConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The repository name given on the command line (or in `CVMFS_REPOSITORIES`) is unusable.
    case invalidRepositoryName(String, reason: String)
    /// A required parameter is unset or empty after reading `files`.
    case missingParameter(key: String, files: [String])
    /// `key` has a value that cannot be used; `file` set it.
    case invalidValue(key: String, value: String, file: String, expected: String)
    /// Two parameters that must not be combined are both set.
    case conflictingParameters(key: String, file: String, otherKey: String, otherFile: String)
    /// `/bin/sh` stopped while evaluating `file` (syntax error, `exit`, assignment to a readonly variable).
    case shellFailed(file: String, message: String)
    /// `/bin/sh` could not be run or produced output that could not be read.
    case shellUnavailable(path: String, message: String)
    /// `CVMFS_STRICT_MOUNT=yes` and the repository is not in `CVMFS_REPOSITORIES`.
    case notInRepositoryList(fqrn: String, file: String)
    /// `CVMFS_CONFIG_REPO_REQUIRED=yes` and the configuration repository cannot be mounted.
    case configRepositoryUnavailable(fqrn: String, mountpoint: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidRepositoryName(name, reason):
            return "invalid repository name '\(name)': \(reason)"
        case let .missingParameter(key, files):
            let read = files.isEmpty ? "no configuration file found" : "read " + files.joined(separator: ", ")
            return "\(key) is not set (\(read))"
        case let .invalidValue(key, value, file, expected):
            return "\(key)=\(value) in \(file): expected \(expected)"
        case let .conflictingParameters(key, file, otherKey, otherFile):
            return "\(key) (set in \(file)) cannot be combined with \(otherKey) (set in \(otherFile))"
        case let .shellFailed(file, message):
            return "cannot evaluate configuration file \(file): \(message)"
        case let .shellUnavailable(path, message):
            return "cannot run \(path) to read the configuration: \(message)"
        case let .notInRepositoryList(fqrn, file):
            return "CVMFS_STRICT_MOUNT is on and \(fqrn) is not listed in CVMFS_REPOSITORIES (\(file))"
        case let .configRepositoryUnavailable(fqrn, mountpoint, reason):
            return "CVMFS_CONFIG_REPO_REQUIRED is on and the configuration repository \(fqrn) cannot be mounted at \(mountpoint): \(reason)"
        }
    }
}
