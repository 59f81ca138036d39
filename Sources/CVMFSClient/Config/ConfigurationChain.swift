import Foundation

/// The ordered list of configuration files for one repository (docs/format/client-behaviour.md §2.1).
///
/// Later files override earlier ones. Missing files are listed but skipped by the parser.
/// With a configuration repository (`CVMFS_CONFIG_REPOSITORY`, mounted by then), its
/// `etc/cvmfs/default.conf`, `domain.d/<domain>.conf` and `config.d/<fqrn>.conf` each come just
/// before the local file of the same step, so local files override it.
public struct ConfigurationChain: Sendable, Equatable {
    /// Where a file sits in the chain.
    public enum Role: Sendable, Equatable {
        case defaultConf, defaultDirectory, defaultLocal
        case domainConf, domainLocal
        case repositoryConf, repositoryLocal
        /// A file of the configuration repository (`$CVMFS_MOUNT_DIR/<config repo>/etc/cvmfs/…`).
        case configRepositoryDefault, configRepositoryDomain, configRepositoryRepository
        /// A file named with `-o config=FILE:FILE`.
        case explicit
    }

    public struct File: Sendable, Equatable {
        public let path: String
        public let role: Role
    }

    /// Used when neither a parameter nor `CVMFS_CONFIG_DIR` names a directory.
    public static let defaultDirectory = "/etc/cvmfs"

    /// The configuration directory (`/etc/cvmfs` unless overridden).
    public let directory: String
    /// The repository the chain is for, or nil for the repository-independent part
    /// (upstream `ParseDefault("")`, used to learn `CVMFS_DEFAULT_DOMAIN`).
    public let repository: RepositoryName?
    /// Candidate files in order, existing or not.
    public let files: [File]

    /// The directory to use: `explicit`, else `$CVMFS_CONFIG_DIR`, else `/etc/cvmfs`.
    public static func resolveDirectory(_ explicit: String?, environment: [String: String]) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let fromEnvironment = environment["CVMFS_CONFIG_DIR"], !fromEnvironment.isEmpty { return fromEnvironment }
        return defaultDirectory
    }

    /// The standard chain: default.conf, default.d/*.conf, [config repo default.conf], default.local,
    /// [config repo domain.d/<domain>.conf], domain.d/<domain>.conf/.local,
    /// [config repo config.d/<fqrn>.conf], config.d/<fqrn>.conf/.local.
    ///
    /// `configRepository` is the configuration repository's `etc/cvmfs` folder; it is left out
    /// for the repository-independent part and for the configuration repository itself.
    public init(repository: RepositoryName?, directory: String? = nil, configRepository: String? = nil,
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        let base = Self.resolveDirectory(directory, environment: environment)
        self.directory = base
        self.repository = repository
        let external = repository == nil ? nil : configRepository
        var files: [File] = [File(path: base + "/default.conf", role: .defaultConf)]
        files += Self.confFiles(in: base + "/default.d").map { File(path: $0, role: .defaultDirectory) }
        if let external { files.append(File(path: external + "/default.conf", role: .configRepositoryDefault)) }
        files.append(File(path: base + "/default.local", role: .defaultLocal))
        if let repository {
            if let domain = repository.domain {
                if let external { files.append(File(path: external + "/domain.d/\(domain).conf", role: .configRepositoryDomain)) }
                files.append(File(path: base + "/domain.d/\(domain).conf", role: .domainConf))
                files.append(File(path: base + "/domain.d/\(domain).local", role: .domainLocal))
            }
            if let external { files.append(File(path: external + "/config.d/\(repository.fqrn).conf", role: .configRepositoryRepository)) }
            files.append(File(path: base + "/config.d/\(repository.fqrn).conf", role: .repositoryConf))
            files.append(File(path: base + "/config.d/\(repository.fqrn).local", role: .repositoryLocal))
        }
        self.files = files
    }

    /// The `-o config=FILE:FILE` chain: only the listed files, in the given order.
    public init(repository: RepositoryName?, explicitFiles: [String], directory: String? = nil,
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.directory = Self.resolveDirectory(directory, environment: environment)
        self.repository = repository
        self.files = explicitFiles.filter { !$0.isEmpty }.map { File(path: $0, role: .explicit) }
    }

    /// Parses the value of a `config=` mount option (`:`-separated paths).
    public static func explicitFiles(fromOption value: String) -> [String] {
        value.split(separator: ":", omittingEmptySubsequences: true).map(String.init)
    }

    /// Paths of the files that exist, in chain order.
    public var existingPaths: [String] {
        files.map(\.path).filter { path in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
        }
    }

    /// `*.conf` files directly in `directory`, sorted by name (byte order, like upstream).
    static func confFiles(in directory: String) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        return names.filter { $0.hasSuffix(".conf") }
            .sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            .map { directory + "/" + $0 }
    }
}
