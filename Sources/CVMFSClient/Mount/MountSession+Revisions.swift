import Glibc
import Synchronization
import CLinux
import CVMFSFormat

/// What a look for a new revision found.
public enum RevisionCheck: Sendable, Equatable {
    case upToDate(revision: UInt64)
    case switched(from: UInt64, to: UInt64)
}

extension MountSession {
    /// Looks for a newer signed revision and applies it without unmounting
    /// (docs/format/client-behaviour.md §7). A manifest older than the mounted one is
    /// refused (replay guard), as is one that fails any step of the chain;
    /// the mount then stays on its revision.
    @discardableResult
    public func checkForNewRevision() throws(MountError) -> RevisionCheck {
        guard !configuration.pinsRootCatalog else { return .upToDate(revision: mountedRevision) }
        let outcome = refresh()
        revisionState.withLock { state in
            state.lastCheck = monotonicNow()
            switch outcome {
            case .success:
                state.offline = false
                state.lastError = nil
            case .failure(let error):
                state.offline = true
                state.lastError = error.description
                Log.notice("\(configuration.fqrn): looking for a new revision failed, staying on revision \(state.manifest.revision): \(error)")
            }
        }
        return try outcome.get()
    }

    private func refresh() -> Result<RevisionCheck, MountError> {
        let current = manifest
        // The blacklist is read again at every check, as upstream does: a certificate or
        // revision the site revokes is refused from the next check on, without a remount.
        let verifier: ManifestVerifier
        do {
            verifier = ManifestVerifier(masterKeys: self.verifier.masterKeys, fqrn: configuration.fqrn,
                                        blacklist: try Self.loadBlacklist(configuration))
        } catch {
            return .failure(error)
        }
        let bytes: [UInt8]
        do {
            bytes = try downloader.fetchToMemory(".cvmfspublished", limit: 1 << 20)
        } catch {
            return .failure(.download("\(configuration.fqrn): manifest: \(error)"))
        }
        let announced: Manifest
        do {
            announced = try verifier.checkManifest(bytes, minimumTimestamp: current.timestamp ?? 0)
        } catch {
            return .failure(.signature("\(configuration.fqrn): \(error)"))
        }
        // Same root catalog: nothing to do (docs/format/manifest-and-signatures.md §5 step 5).
        if announced.rootCatalog == current.rootCatalog || announced.revision <= current.revision {
            return .success(.upToDate(revision: current.revision))
        }
        let verified: Manifest
        do {
            let whitelist = try downloader.fetchToMemory(".cvmfswhitelist", limit: 1 << 20)
            guard let certificateHash = announced.certificate else { throw SignatureError.manifestIncomplete(missingKey: "X") }
            let certificate = try provider.readSmallObject(certificateHash, suffix: .certificate)
            verified = try verifier.verify(manifest: bytes, whitelist: whitelist, certificate: certificate,
                                           now: Int64(time(nil)), minimumTimestamp: current.timestamp ?? 0)
        } catch {
            return .failure(.signature("\(configuration.fqrn): \(error)"))
        }
        let fileSystem = self.fileSystem
        let cached: [(parent: UInt64, name: [UInt8])]
        do {
            let tree = try CatalogTree(rootHash: verified.rootCatalog, provider: provider,
                                       inodeRanges: fileSystem.tree.inodeRanges, census: fileSystem.tree.census)
            cached = try fileSystem.switchRevision(to: tree)
        } catch {
            return .failure(.catalog("\(configuration.fqrn): root catalog \(verified.rootCatalog): \(error)"))
        }
        revisionState.withLock {
            $0.manifest = verified
            $0.switches += 1
        }
        try? cache.directory.writeBreadcrumb(
            CacheBreadcrumb(catalogHash: verified.rootCatalog, timestamp: Int64(verified.timestamp ?? 0), revision: verified.revision),
            fqrn: configuration.fqrn)
        kernelInvalidator.withLock { $0 }?(cached)
        Log.notice("\(configuration.fqrn): switched to catalog revision \(verified.revision)")
        return .success(.switched(from: current.revision, to: verified.revision))
    }

    /// Installs how cached kernel entries are dropped after a switch (the
    /// FUSE adapter's notify calls).
    public func setKernelInvalidator(_ invalidate: @escaping @Sendable ([(parent: UInt64, name: [UInt8])]) -> Void) {
        kernelInvalidator.withLock { $0 = invalidate }
    }

    /// Seconds until the next scheduled check: the TTL after a success,
    /// 180 s after a failure (upstream's short-term TTL).
    public var secondsUntilNextCheck: Double {
        let (last, offline) = revisionState.withLock { ($0.lastCheck, $0.offline) }
        let period = offline ? 180 : Double(effectiveTTL)
        return max(0, last + period - monotonicNow())
    }

    public var isOffline: Bool { revisionState.withLock { $0.offline } }

    /// Whether this mount follows new revisions at all (docs/format/client-behaviour.md §7: a fixed root does not).
    public var followsRevisions: Bool {
        configuration.autoUpdate && !configuration.pinsRootCatalog
    }

    /// Starts the thread that checks for new revisions when the TTL runs out.
    public func startRevisionTimer() {
        guard followsRevisions else { return }
        let session = self
        spawnDetachedThread {
            while !session.isShutDown.load(ordering: .relaxed) {
                let wait = session.secondsUntilNextCheck
                if wait > 0 {
                    var ts = timespec(tv_sec: Int(wait), tv_nsec: Int((wait - wait.rounded(.down)) * 1e9))
                    nanosleep(&ts, nil)
                    continue
                }
                _ = try? session.checkForNewRevision()
                // A switch frees an old revision's catalogs and listings in bulk; glibc keeps
                // such pages (MallocArenas.swift), so give them back once per check.
                malloc_trim(0)
            }
        }
    }
}
