import Glibc
import Synchronization
import CVMFSFormat

/// One mounted repository: configuration, downloader, cache, the verified
/// manifest and the file system serving it.
public final class MountSession: MountStatus {
    public let configuration: ClientConfiguration
    public let downloader: Downloader
    public let cache: ObjectCache
    public let provider: CachedObjectProvider
    /// Fetches start-up profiles ahead (`CVMFS_SWIFT_PROFILES`, docs/profiles.md); nil when off.
    public let profiles: ProfilePrefetcher?
    /// Fetches the next chunks of sequential reads, as far ahead as the latency needs.
    public let readAhead: ChunkPrefetcher
    let verifier: ManifestVerifier
    let revisionState: Mutex<RevisionState>
    /// The verified manifest of the mounted revision.
    public var manifest: Manifest { revisionState.withLock { $0.manifest } }
    private let currentFileSystem = Mutex<RepositoryFileSystem?>(nil)
    /// The file system of the mounted revision.
    public var fileSystem: RepositoryFileSystem { currentFileSystem.withLock { $0! } }
    /// The tag mounted for `CVMFS_REPOSITORY_TAG` or `_DATE` (`user.tag`).
    public let mountedTag: RepositoryTag?
    let mountedAt = monotonicNow()
    private let mountpointPath = Mutex("")
    let kernelInvalidator = Mutex<(@Sendable ([(parent: UInt64, name: [UInt8])]) -> Void)?>(nil)
    private let ioErrors = Atomic<Int>(0)
    /// What `reload` reads again; set by the mount command.
    let configurationSource = Mutex<ConfigurationSource?>(nil)
    /// Set by `shutDown`; the revision timer ends when it sees it.
    let isShutDown = Atomic<Bool>(false)

    /// The client's version, as `user.version` and the User-Agent show it.
    public static let version = "2.12.0.0"

    /// Verifies the repository (signature chain, then the root catalog) and
    /// prepares the file system; no FUSE yet.
    public init(configuration: ClientConfiguration, settings fileSystemSettings: FileSystemSettings? = nil) throws(MountError) {
        self.configuration = configuration
        let fqrn = configuration.fqrn
        Log.configure(debugLog: configuration.debugLog, identity: fqrn)
        for warning in configuration.parameters.warnings { Log.notice("\(fqrn): \(warning)") }
        for name in configuration.unknownParameterNames {
            Log.debug("\(fqrn): parameter \(name) is not used by this client (ignored)")
        }
        verifier = ManifestVerifier(masterKeys: try Self.loadKeys(configuration), fqrn: fqrn,
                                    blacklist: try Self.loadBlacklist(configuration))
        let proxies = try Self.discoverProxies(configuration.httpProxy, configuration)
        do {
            downloader = try Downloader(settings: Self.downloadSettings(configuration, proxies: proxies))
        } catch {
            throw .configuration("\(error)")
        }
        cache = try Self.openCache(configuration)
        if configuration.useGeoAPI {
            _ = DirectoryPath.create(configuration.workspace, mode: 0o700)
            Self.orderHostsByGeo(configuration, downloader)
        }
        if let count = configuration.maxServers { downloader.keepFirstHosts(count) }
        provider = CachedObjectProvider(cache: cache, downloader: downloader)
        readAhead = ChunkPrefetcher(latency: { [downloader] in downloader.firstByteLatency })
        profiles = configuration.profilesEnabled
            ? ProfilePrefetcher(provider: provider, workers: downloader.backgroundTransferSlots) : nil
        let state = try Self.initialRevision(fqrn: fqrn, downloader: downloader, cache: cache, provider: provider, verifier: verifier)
        revisionState = Mutex(state)
        let manifest = state.manifest
        let pinned = try PinnedRoot.resolve(configuration, manifest: manifest, provider: provider)
        mountedTag = pinned?.tag
        let rootCatalog = pinned?.rootCatalog ?? manifest.rootCatalog
        let tree: CatalogTree
        do {
            tree = try CatalogTree(rootHash: rootCatalog, provider: provider)
        } catch {
            throw .catalog("\(fqrn): root catalog \(rootCatalog): \(error)")
        }
        Log.debug("\(fqrn): root catalog \(rootCatalog) attached" + (pinned?.tag.map { " (tag \($0.name))" } ?? ""))
        // The breadcrumb is what an offline mount falls back to: only the manifest's own revision.
        if pinned == nil {
            try? cache.directory.writeBreadcrumb(
                CacheBreadcrumb(catalogHash: manifest.rootCatalog, timestamp: Int64(manifest.timestamp ?? 0), revision: manifest.revision), fqrn: fqrn)
        }
        var settings = fileSystemSettings ?? Self.fileSystemSettings(configuration)
        if fileSystemSettings == nil { settings.variable = VariantEnvironment(configuration: configuration).lookup }
        do {
            let fileSystem = try RepositoryFileSystem(tree: tree, provider: provider, status: self, settings: settings,
                                                      profiles: profiles, readAhead: readAhead)
            currentFileSystem.withLock { $0 = fileSystem }
        } catch {
            throw .catalog("\(fqrn): \(error)")
        }
    }

    static func downloadSettings(_ c: ClientConfiguration, proxies: String) -> DownloadSettings {
        DownloadSettings(
            hosts: c.serverURLs, proxies: proxies, fallbackProxies: c.fallbackProxy ?? "",
            timeoutSeconds: c.timeout, timeoutDirectSeconds: c.timeoutDirect, lowSpeedLimit: c.lowSpeedLimit,
            maxRetries: c.maxRetries, backoffInit: .seconds(c.backoffInitSeconds), backoffMax: .seconds(c.backoffMaxSeconds),
            proxyResetAfter: .seconds(c.proxyResetAfter), hostResetAfter: .seconds(c.hostResetAfter),
            followRedirects: c.followRedirects, maxTransfers: c.maxTransfers, userAgent: "cvmfs Fuse \(version)")
    }

    static func fileSystemSettings(_ c: ClientConfiguration) -> FileSystemSettings {
        var settings = FileSystemSettings()
        settings.kernelCacheTimeout = Double(max(0, c.kcacheTimeout))
        if c.claimOwnership { settings.claimedOwner = (getuid(), getgid()) }
        settings.worldReadable = c.worldReadable
        settings.expandSymlinks = !c.serverCacheMode
        settings.magicXattrVisibility = c.magicXattrsVisibility
        settings.maxOpenFiles = OpenFileLimit.openFileBudget
        return settings
    }

    // MARK: - MountStatus

    /// Ends the background work once the mount is gone: queued read-ahead and
    /// profile runs stop, the revision timer ends, then the cache is closed.
    public func shutDown() {
        isShutDown.store(true, ordering: .relaxed)
        readAhead.stop()
        profiles?.cancelAll()
        cache.close()
    }

    public func countIOError(_ reason: String) {
        ioErrors.wrappingAdd(1, ordering: .relaxed)
        Log.notice("\(configuration.fqrn): EIO: \(reason)")
    }

    public var ioErrorCount: Int { ioErrors.load(ordering: .relaxed) }

    func resetIOErrors() { ioErrors.store(0, ordering: .relaxed) }

    /// Where the repository is mounted (`talk mountpoint`); set by the mount command.
    public var mountpoint: String {
        get { mountpointPath.withLock { $0 } }
        set { mountpointPath.withLock { $0 = newValue } }
    }

    public let magicAttributeNames = [
        "fqrn", "revision", "root_hash", "expires", "host", "host_list", "proxy", "timeout", "timeout_direct",
        "ndownload", "rx", "speed", "nioerr", "usedfd", "pid", "uptime", "version", "maxfd", "hitrate",
        "talk_socket", "profiles", "tag",
    ]

    public func magicAttribute(_ name: String) -> [UInt8]? {
        let text: String
        let stats = downloader.statistics
        switch name {
        case "fqrn": text = configuration.fqrn
        case "revision": text = String(mountedRevision)
        case "root_hash": text = fileSystem.tree.root.hash.description
        case "tag": text = mountedTag?.name ?? ""
        case "expires":
            if !followsRevisions {
                text = "never (fixed root catalog)"
            } else {
                let ttl = Double(effectiveTTL)
                let elapsed = monotonicNow() - mountedAt
                text = String(max(0, Int((ttl - elapsed) / 60)))
            }
        case "host": text = downloader.currentHost
        case "host_list": text = downloader.hostChain.hosts.joined(separator: ";")
        case "proxy": text = downloader.currentProxy.description
        case "timeout": text = String(configuration.timeout)
        case "timeout_direct": text = String(configuration.timeoutDirect)
        case "ndownload": text = String(stats.downloads)
        case "rx": text = String(stats.bytes / 1024)
        case "speed": text = stats.downloads == 0 ? "n/a" : String(Int(stats.kibPerSecond))
        case "nioerr": text = String(ioErrorCount)
        case "usedfd": text = String(fileSystem.openFileCount)
        case "maxfd": text = String(OpenFileLimit.openFileBudget)
        case "hitrate": text = provider.hitRate.map { String(Int($0.rounded())) } ?? "n/a"
        case "pid": text = String(getpid())
        case "uptime": text = String(Int((monotonicNow() - mountedAt) / 60))
        case "version": text = Self.version
        case "talk_socket": text = Self.talkSocketPath(configuration)
        case "profiles": text = profileSummary
        default: return nil
        }
        return Array(text.utf8)
    }

    /// The revision served: the manifest's, or a pinned root catalog's own.
    public var mountedRevision: UInt64 { fileSystem.tree.root.catalog.revision }

    /// The root catalog's TTL, capped by `CVMFS_MAX_TTL` (docs/format/client-behaviour.md §7).
    public var effectiveTTL: UInt64 {
        let ttl = currentFileSystem.withLock { $0?.tree.root.catalog.ttl } ?? 240
        if configuration.maxTTLMinutes > 0 { return min(ttl, UInt64(configuration.maxTTLMinutes) * 60) }
        return ttl
    }

    public func cacheStatistics() -> (limit: UInt64, used: UInt64)? {
        let usage = cache.usage()
        guard usage.limit >= 0 else { return nil }
        return (UInt64(usage.limit), UInt64(max(0, usage.used)))
    }
}

func monotonicNow() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
