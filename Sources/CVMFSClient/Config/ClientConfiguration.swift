import Foundation

/// The validated client configuration for one repository, parsed once from the chain.
///
/// Unset parameters take the client's binary defaults (docs/format/client-behaviour.md §3); the shipped
/// `default.conf` supplies the package defaults. Errors name the key and the file that set it.
/// Parameters the client does not use stay in `allParameters` (see `unknownParameterNames`).
public struct ClientConfiguration: Sendable {
    public let repository: RepositoryName
    public var fqrn: String { repository.fqrn }

    // Network
    /// `CVMFS_SERVER_URL` split on `;`, templates expanded. Required.
    public let serverURLs: [String]
    /// `CVMFS_HTTP_PROXY` as written (groups `;`, members `|`, `DIRECT`, `auto`). Required.
    public let httpProxy: String
    /// `CVMFS_FALLBACK_PROXY`, nil when unset or empty.
    public let fallbackProxy: String?
    /// `CVMFS_PAC_URLS` split on `;` (a parameter, or else the environment variable as upstream
    /// reads it): the PAC files an `auto` proxy group is discovered from, in order.
    public let pacURLs: [String]
    /// Seconds, through a proxy (`CVMFS_TIMEOUT`, default 5).
    public let timeout: Int
    /// Seconds, DIRECT (`CVMFS_TIMEOUT_DIRECT`, binary default 5, default.conf 10).
    public let timeoutDirect: Int
    /// `CVMFS_MAX_RETRIES` (default 1).
    public let maxRetries: Int
    /// `CVMFS_BACKOFF_INIT` / `CVMFS_BACKOFF_MAX` in seconds (defaults 2 / 10).
    public let backoffInitSeconds: Int
    public let backoffMaxSeconds: Int
    /// Bytes/s (`CVMFS_LOW_SPEED_LIMIT`, default 1024).
    public let lowSpeedLimit: Int
    /// Seconds, 0 = never (`CVMFS_PROXY_RESET_AFTER`, `CVMFS_HOST_RESET_AFTER`).
    public let proxyResetAfter: Int
    public let hostResetAfter: Int
    /// `CVMFS_FOLLOW_REDIRECTS` (default no).
    public let followRedirects: Bool
    /// `CVMFS_USE_GEOAPI` (accepted; default no).
    public let useGeoAPI: Bool
    /// `CVMFS_MAX_SERVERS`, nil = all.
    public let maxServers: Int?
    /// `CVMFS_SWIFT_MAX_TRANSFERS`: the most downloads in flight at once (default 16).
    public let maxTransfers: Int
    /// `CVMFS_SWIFT_PROFILES`: fetch a directory's start-up profile ahead of its reads (default yes).
    public let profilesEnabled: Bool

    // Trust
    /// Public key files: `CVMFS_PUBLIC_KEY` (`:`-list), else `*.pub` in `CVMFS_KEYS_DIR`,
    /// else `*.pub` in `<config dir>/keys` (non-recursive, sorted).
    public let publicKeyPaths: [String]
    /// `CVMFS_BLACKLIST` (default `/etc/cvmfs/blacklist`).
    public let blacklistPath: String

    // Cache
    /// `CVMFS_CACHE_BASE` (default `/var/lib/cvmfs`).
    public let cacheBase: String
    /// `CVMFS_SHARED_CACHE` (binary default no).
    public let sharedCache: Bool
    /// `CVMFS_CACHE_DIR`, else `<base>/shared` or `<base>/<fqrn>`.
    public let cacheDirectory: String
    /// `CVMFS_WORKSPACE`, else the cache directory.
    public let workspace: String
    /// MiB; -1 = unmanaged (`CVMFS_QUOTA_LIMIT`, binary default 1024).
    public let quotaLimitMB: Int
    public var isQuotaManaged: Bool { quotaLimitMB >= 0 }
    /// MiB of in-memory metadata caches (`CVMFS_MEMCACHE_SIZE`, default 16).
    public let memcacheSizeMB: Int

    // File system
    /// Seconds of kernel caching (`CVMFS_KCACHE_TIMEOUT`, default 60, negative → 0).
    public let kcacheTimeout: Int
    /// Minutes, 0 = no bound (`CVMFS_MAX_TTL`).
    public let maxTTLMinutes: Int
    /// `CVMFS_AUTO_UPDATE` (default yes); false whenever a root hash or a tag is pinned.
    public let autoUpdate: Bool
    /// `CVMFS_ROOT_HASH`, `CVMFS_REPOSITORY_TAG`, `CVMFS_REPOSITORY_DATE`.
    public let rootHash: String?
    public let repositoryTag: String?
    public let repositoryDate: String?
    /// Whether a root hash, tag or date fixes the revision.
    public var pinsRootCatalog: Bool { rootHash != nil || repositoryTag != nil || repositoryDate != nil }
    public let claimOwnership: Bool
    public let worldReadable: Bool
    public let checkPermissions: Bool
    /// `CVMFS_MOUNT_RW` (default no).
    public let mountReadWrite: Bool
    public let magicXattrsVisibility: MagicXattrVisibility
    /// `CVMFS_SERVER_CACHE_MODE`: do not expand variant symlinks.
    public let serverCacheMode: Bool
    /// `CVMFS_NFILES`, nil = keep the process limit.
    public let nfiles: Int?

    // Mounting and logging
    public let strictMount: Bool
    /// `CVMFS_REPOSITORIES` as full names (short names get the default domain).
    public let repositories: [String]
    public let defaultDomain: String?
    /// `CVMFS_USER` (helper), `CVMFS_MOUNT_DIR` (default `/cvmfs`), `CVMFS_RELOAD_SOCKETS`.
    public let user: String?
    public let mountDirectory: String
    public let reloadSockets: String
    /// `CVMFS_DEBUGLOG`, `CVMFS_USYSLOG`; nil when unset.
    public let debugLog: String?
    public let usyslog: String?
    /// `CVMFS_SYSLOG_LEVEL` (default 3).
    public let syslogLevel: Int

    /// Every parameter the chain set, sorted by name, with the file that set it.
    public let allParameters: [ConfigurationParameter]
    /// The files that were evaluated, in order.
    public let files: [String]
    /// The raw parameters (for `config show` and error messages).
    public let parameters: ConfigurationParameters

    /// Reads the chain for `repository` and validates it.
    ///
    /// `repository` is a mount argument: a path keeps only its last component and a short name
    /// gets `CVMFS_DEFAULT_DOMAIN` (learned from the repository-independent part of the chain).
    /// `explicitFiles` is the `-o config=` list; when given, only those files are read.
    /// `mounter` makes a configuration repository available; without it, one is used only
    /// when it is already there.
    public static func load(repository argument: String, configDirectory: String? = nil,
                            explicitFiles: [String]? = nil, mounter: ConfigRepositoryMounter? = nil,
                            environment: [String: String] = ProcessInfo.processInfo.environment,
                            shell: String = "/bin/sh") throws(ConfigurationError) -> ClientConfiguration {
        let loaded = try loadParameters(repository: argument, configDirectory: configDirectory, explicitFiles: explicitFiles,
                                        mounter: mounter, environment: environment, shell: shell)
        return try ClientConfiguration(repository: loaded.repository, parameters: loaded.parameters, configDirectory: loaded.directory)
    }

    /// The chain `load` reads, evaluated but not validated (`showconfig` prints it as it is).
    public static func loadParameters(repository argument: String, configDirectory: String? = nil,
                                      explicitFiles: [String]? = nil, mounter: ConfigRepositoryMounter? = nil,
                                      environment: [String: String] = ProcessInfo.processInfo.environment,
                                      shell: String = "/bin/sh") throws(ConfigurationError)
        -> (repository: RepositoryName, parameters: ConfigurationParameters, directory: String) {
        let parser = ConfigurationParser(shell: shell, environment: environment)
        let directory = ConfigurationChain.resolveDirectory(configDirectory, environment: environment)
        if let explicitFiles {
            var repository = try? RepositoryName(validating: argument)
            if repository == nil || !argument.contains(".") {
                let defaults = try parser.parse(ConfigurationChain(repository: nil, explicitFiles: explicitFiles,
                                                                  directory: directory, environment: environment))
                repository = try RepositoryName.sanitize(argument, defaultDomain: defaults["CVMFS_DEFAULT_DOMAIN"])
            }
            let chain = ConfigurationChain(repository: repository, explicitFiles: explicitFiles,
                                           directory: directory, environment: environment)
            return (repository!, try parser.parse(chain), directory)
        }
        // The repository-independent part names the default domain and the configuration repository.
        let defaults = try parser.parse(ConfigurationChain(repository: nil, directory: directory, environment: environment))
        let repository = try RepositoryName.sanitize(argument, defaultDomain: defaults["CVMFS_DEFAULT_DOMAIN"])
        let external = try configRepositoryFolder(for: repository, defaults: defaults, mounter: mounter)
        let chain = ConfigurationChain(repository: repository, directory: directory, configRepository: external.folder,
                                       environment: environment)
        var parameters = try parser.parse(chain)
        if let note = external.note { parameters.warnings.insert(note, at: 0) }
        return (repository, parameters, directory)
    }

    /// Validates already parsed parameters (templates already expanded).
    ///
    /// The reads keep their order: when several parameters are invalid, the first one read is reported.
    public init(repository: RepositoryName, parameters: ConfigurationParameters,
                configDirectory: String = ConfigurationChain.defaultDirectory) throws(ConfigurationError) {
        let p = ParameterReader(parameters)
        self.repository = repository
        self.parameters = parameters
        self.allParameters = parameters.all
        self.files = parameters.files

        (serverURLs, httpProxy, fallbackProxy) = try Self.serversAndProxies(p)
        pacURLs = (p.string("CVMFS_PAC_URLS") ?? ProcessInfo.processInfo.environment["CVMFS_PAC_URLS"] ?? "")
            .split(separator: ";").map { String($0.trimmingBlanks()) }.filter { !$0.isEmpty }
        timeout = try p.int("CVMFS_TIMEOUT", default: 5, minimum: 0)
        timeoutDirect = try p.int("CVMFS_TIMEOUT_DIRECT", default: 5, minimum: 0)
        maxRetries = try p.int("CVMFS_MAX_RETRIES", default: 1, minimum: 0)
        backoffInitSeconds = try p.int("CVMFS_BACKOFF_INIT", default: 2, minimum: 0)
        backoffMaxSeconds = try p.int("CVMFS_BACKOFF_MAX", default: 10, minimum: 0)
        lowSpeedLimit = try p.int("CVMFS_LOW_SPEED_LIMIT", default: 1024, minimum: 0)
        proxyResetAfter = try p.int("CVMFS_PROXY_RESET_AFTER", default: 0, minimum: 0)
        hostResetAfter = try p.int("CVMFS_HOST_RESET_AFTER", default: 0, minimum: 0)
        followRedirects = try p.bool("CVMFS_FOLLOW_REDIRECTS", default: false)
        useGeoAPI = try p.bool("CVMFS_USE_GEOAPI", default: false)
        maxServers = try p.optionalInt("CVMFS_MAX_SERVERS", minimum: 1)
        maxTransfers = try p.int("CVMFS_SWIFT_MAX_TRANSFERS", default: 16, minimum: 1)
        profilesEnabled = try p.bool("CVMFS_SWIFT_PROFILES", default: true)

        publicKeyPaths = Self.publicKeyPaths(parameters, configDirectory: configDirectory)
        blacklistPath = p.string("CVMFS_BLACKLIST") ?? "/etc/cvmfs/blacklist"

        (cacheBase, sharedCache, cacheDirectory, workspace) = try Self.cacheLocation(p, fqrn: repository.fqrn)
        quotaLimitMB = try p.int("CVMFS_QUOTA_LIMIT", default: 1024, minimum: -1)
        memcacheSizeMB = try p.int("CVMFS_MEMCACHE_SIZE", default: 16, minimum: 1)

        kcacheTimeout = max(0, try p.int("CVMFS_KCACHE_TIMEOUT", default: 60, minimum: Int.min))
        maxTTLMinutes = try p.int("CVMFS_MAX_TTL", default: 0, minimum: 0)
        (rootHash, repositoryTag, repositoryDate, autoUpdate) = try Self.pinnedRevision(p)
        claimOwnership = try p.bool("CVMFS_CLAIM_OWNERSHIP", default: false)
        worldReadable = try p.bool("CVMFS_WORLD_READABLE", default: false)
        checkPermissions = try p.bool("CVMFS_CHECK_PERMISSIONS", default: false)
        mountReadWrite = try p.bool("CVMFS_MOUNT_RW", default: false)
        magicXattrsVisibility = try Self.magicXattrsVisibility(p)
        serverCacheMode = try p.bool("CVMFS_SERVER_CACHE_MODE", default: false)
        nfiles = try p.optionalInt("CVMFS_NFILES", minimum: 1)

        strictMount = try p.bool("CVMFS_STRICT_MOUNT", default: false)
        defaultDomain = p.string("CVMFS_DEFAULT_DOMAIN")
        repositories = try Self.repositories(p, defaultDomain: defaultDomain)
        user = p.string("CVMFS_USER")
        mountDirectory = p.string("CVMFS_MOUNT_DIR") ?? "/cvmfs"
        reloadSockets = p.string("CVMFS_RELOAD_SOCKETS") ?? "/var/run/cvmfs"
        debugLog = p.string("CVMFS_DEBUGLOG")
        usyslog = p.string("CVMFS_USYSLOG")
        syslogLevel = try p.int("CVMFS_SYSLOG_LEVEL", default: 3, minimum: 1)
    }

    // MARK: Parameters that take more than a typed read

    private static func serversAndProxies(_ p: ParameterReader) throws(ConfigurationError)
        -> (serverURLs: [String], httpProxy: String, fallbackProxy: String?) {
        guard let servers = p.string("CVMFS_SERVER_URL") else { throw p.missing("CVMFS_SERVER_URL") }
        let serverURLs = servers.split(separator: ";").map { String($0.trimmingBlanks()) }.filter { !$0.isEmpty }
        if serverURLs.isEmpty { throw p.missing("CVMFS_SERVER_URL") }
        guard let httpProxy = p.string("CVMFS_HTTP_PROXY") else { throw p.missing("CVMFS_HTTP_PROXY") }
        // Fallback groups are tried after the regular ones and may not name DIRECT (docs/format/client-behaviour.md §3).
        let fallbackProxy = p.string("CVMFS_FALLBACK_PROXY")
        if let fallbackProxy, fallbackProxy.split(whereSeparator: { $0 == ";" || $0 == "|" })
            .contains(where: { $0.trimmingBlanks().uppercased() == "DIRECT" }) {
            throw p.invalid("CVMFS_FALLBACK_PROXY", "proxies without DIRECT")
        }
        return (serverURLs, httpProxy, fallbackProxy)
    }

    /// `CVMFS_CACHE_DIR` is the exact directory; setting `CVMFS_CACHE_BASE` as well is an error.
    private static func cacheLocation(_ p: ParameterReader, fqrn: String) throws(ConfigurationError)
        -> (cacheBase: String, sharedCache: Bool, cacheDirectory: String, workspace: String) {
        let base = p.string("CVMFS_CACHE_BASE")
        let cacheBase = base ?? "/var/lib/cvmfs"
        let sharedCache = try p.bool("CVMFS_SHARED_CACHE", default: false)
        let cacheDirectory: String
        if let cacheDir = p.string("CVMFS_CACHE_DIR") {
            if base != nil {
                throw .conflictingParameters(key: "CVMFS_CACHE_DIR", file: p.source("CVMFS_CACHE_DIR"),
                                             otherKey: "CVMFS_CACHE_BASE", otherFile: p.source("CVMFS_CACHE_BASE"))
            }
            cacheDirectory = cacheDir
        } else {
            cacheDirectory = cacheBase + "/" + (sharedCache ? "shared" : fqrn)
        }
        let workspace = p.string("CVMFS_WORKSPACE") ?? cacheDirectory
        return (cacheBase, sharedCache, cacheDirectory, workspace)
    }

    /// A pinned root hash or tag turns automatic updates off.
    private static func pinnedRevision(_ p: ParameterReader) throws(ConfigurationError)
        -> (rootHash: String?, repositoryTag: String?, repositoryDate: String?, autoUpdate: Bool) {
        let rootHash = p.string("CVMFS_ROOT_HASH")
        let repositoryTag = p.string("CVMFS_REPOSITORY_TAG")
        let repositoryDate = p.string("CVMFS_REPOSITORY_DATE")
        let autoUpdate = try p.bool("CVMFS_AUTO_UPDATE", default: true) && rootHash == nil && repositoryTag == nil && repositoryDate == nil
        return (rootHash, repositoryTag, repositoryDate, autoUpdate)
    }

    /// `CVMFS_MAGIC_XATTRS_VISIBILITY` wins over `CVMFS_HIDE_MAGIC_XATTRS`, which must still be a valid yes/no.
    private static func magicXattrsVisibility(_ p: ParameterReader) throws(ConfigurationError) -> MagicXattrVisibility {
        let hidden = try p.bool("CVMFS_HIDE_MAGIC_XATTRS", default: false)
        guard let raw = p.string("CVMFS_MAGIC_XATTRS_VISIBILITY") else { return hidden ? .never : .rootOnly }
        guard let parsed = MagicXattrVisibility(rawValue: raw.lowercased()) else {
            throw p.invalid("CVMFS_MAGIC_XATTRS_VISIBILITY", "always, never or rootonly")
        }
        return parsed
    }

    private static func repositories(_ p: ParameterReader, defaultDomain: String?) throws(ConfigurationError) -> [String] {
        var listed: [String] = []
        for entry in (p.string("CVMFS_REPOSITORIES") ?? "").split(separator: ",") {
            let name = String(entry.trimmingBlanks())
            if name.isEmpty { continue }
            do {
                listed.append(try RepositoryName.sanitize(name, defaultDomain: defaultDomain).fqrn)
            } catch {
                throw p.invalid("CVMFS_REPOSITORIES", "a comma-separated list of repository names")
            }
        }
        return listed
    }

    /// With `CVMFS_STRICT_MOUNT=yes`, fails unless the repository is in `CVMFS_REPOSITORIES`
    /// or is the configuration repository (a mount-helper check).
    public func checkStrictMount() throws(ConfigurationError) {
        guard strictMount else { return }
        if repositories.contains(fqrn) || parameters["CVMFS_CONFIG_REPOSITORY"] == fqrn { return }
        throw .notInRepositoryList(fqrn: fqrn, file: parameters.source(of: "CVMFS_REPOSITORIES")
                                   ?? parameters.source(of: "CVMFS_STRICT_MOUNT") ?? "")
    }

    /// Names of parameters the client does not interpret (log them at debug level).
    public var unknownParameterNames: [String] {
        allParameters.map(\.name).filter { !Self.knownParameters.contains($0) }
    }

    /// Key discovery per docs/format/manifest-and-signatures.md §6.
    static func publicKeyPaths(_ parameters: ConfigurationParameters, configDirectory: String) -> [String] {
        if let list = parameters["CVMFS_PUBLIC_KEY"], !list.isEmpty {
            return list.split(separator: ":").map(String.init).filter { !$0.isEmpty }
        }
        if let directory = parameters["CVMFS_KEYS_DIR"], !directory.isEmpty {
            return pubFiles(in: directory)
        }
        return pubFiles(in: configDirectory + "/keys")
    }

    static func pubFiles(in directory: String) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        return names.filter { $0.hasSuffix(".pub") }.sorted().map { directory + "/" + $0 }.filter { path in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
        }
    }
}
