import Glibc
import CVMFSFormat

/// The steps of `MountSession.init` before the catalogs: keys, cache, and the
/// first revision, verified or (offline) taken from the cache's breadcrumb.
extension MountSession {
    static func loadKeys(_ configuration: ClientConfiguration) throws(MountError) -> [RSAPublicKey] {
        let keys: [RSAPublicKey]
        do {
            keys = try ManifestVerifier.loadPublicKeys(paths: configuration.publicKeyPaths)
        } catch {
            throw .signature("\(error)")
        }
        if keys.isEmpty { throw .signature("no public keys configured (CVMFS_PUBLIC_KEY or CVMFS_KEYS_DIR)") }
        return keys
    }

    /// The site's blacklist (`CVMFS_BLACKLIST`); none when the file does not exist.
    /// A blacklist that exists but cannot be read refuses the mount: running
    /// without it would trust what the site has revoked.
    static func loadBlacklist(_ configuration: ClientConfiguration) throws(MountError) -> Blacklist {
        let path = configuration.blacklistPath
        guard access(path, F_OK) == 0 else { return .empty }
        guard let bytes = SmallFile.read(path, limit: 16 << 20) else {
            throw .signature("cannot read the blacklist \(path) (CVMFS_BLACKLIST): \(errnoText())")
        }
        return Blacklist(parsing: String(decoding: bytes, as: UTF8.self))
    }

    static func openCache(_ configuration: ClientConfiguration) throws(MountError) -> ObjectCache {
        // Mode 0700, as upstream creates its cache directory.
        if let problem = DirectoryPath.create(configuration.cacheDirectory, mode: 0o700) {
            throw .cache(problem)
        }
        do {
            let limit = configuration.isQuotaManaged ? Int64(configuration.quotaLimitMB) << 20 : -1
            let cache = try ObjectCache(path: configuration.cacheDirectory, limit: limit, shared: configuration.sharedCache)
            Log.debug("\(configuration.fqrn): cache \(configuration.cacheDirectory) open")
            return cache
        } catch {
            throw .cache("\(configuration.cacheDirectory): \(error)")
        }
    }

    /// The revision to mount: the servers' current one with its whole
    /// signature chain verified, never older than what this cache verified
    /// before; or, when no server answers, that older one offline.
    static func initialRevision(fqrn: String, downloader: Downloader, cache: ObjectCache, provider: CachedObjectProvider,
                                verifier: ManifestVerifier) throws(MountError) -> RevisionState {
        let breadcrumb = try? cache.directory.readBreadcrumb(fqrn: fqrn)
        let manifestBytes: [UInt8], whitelistBytes: [UInt8]
        do {
            manifestBytes = try downloader.fetchToMemory(".cvmfspublished", limit: 1 << 20)
            whitelistBytes = try downloader.fetchToMemory(".cvmfswhitelist", limit: 1 << 20)
        } catch {
            return try offlineRevision(fqrn: fqrn, breadcrumb: breadcrumb, cache: cache, reason: "\(error)",
                                       refusal: .download("\(fqrn): \(error)"))
        }
        Log.debug("\(fqrn): manifest and whitelist fetched")
        let minimumTimestamp = UInt64(max(0, breadcrumb?.timestamp ?? 0))
        let unverified: Manifest
        do {
            unverified = try verifier.checkManifest(manifestBytes, minimumTimestamp: minimumTimestamp)
        } catch {
            // The server only has data older than what this cache verified before (a replayed
            // manifest): refused, and the newer local copy is mounted offline
            // (docs/format/manifest-and-signatures.md §5 steps 4 and 11).
            if case .outdatedTimestamp = error {
                return try offlineRevision(fqrn: fqrn, breadcrumb: breadcrumb, cache: cache, reason: "\(error)",
                                           refusal: .signature("\(fqrn): \(error)"))
            }
            throw .signature("\(fqrn): \(error)")
        }
        guard let certificateHash = unverified.certificate else {
            throw .signature("\(fqrn): \(SignatureError.manifestIncomplete(missingKey: "X"))")
        }
        let certificate: [UInt8]
        do {
            certificate = try provider.readSmallObject(certificateHash, suffix: .certificate)
        } catch {
            throw .download("certificate of \(fqrn): \(error)")
        }
        do {
            return RevisionState(manifest: try verifier.verify(
                manifest: manifestBytes, whitelist: whitelistBytes, certificate: certificate,
                now: Int64(time(nil)), minimumTimestamp: minimumTimestamp))
        } catch {
            throw .signature("\(fqrn): \(error)")
        }
    }

    /// Offline mode (docs/format/client-behaviour.md §7): the newest revision
    /// this cache verified before, if its root catalog is still here; otherwise
    /// the mount fails with `refusal`.
    private static func offlineRevision(fqrn: String, breadcrumb: CacheBreadcrumb?, cache: ObjectCache,
                                        reason: String, refusal: MountError) throws(MountError) -> RevisionState {
        guard let breadcrumb, let cached = try? cache.open(breadcrumb.catalogHash) else {
            throw refusal
        }
        cached.close()
        var offline = RevisionState(manifest: Manifest(
            rootCatalog: breadcrumb.catalogHash, catalogSize: 0, ttl: 240, revision: breadcrumb.revision,
            fqrn: fqrn, timestamp: UInt64(max(0, breadcrumb.timestamp))))
        offline.offline = true
        offline.lastError = reason
        Log.notice("\(fqrn): no usable revision on the servers, mounting cached revision \(breadcrumb.revision) offline: \(reason)")
        return offline
    }
}
