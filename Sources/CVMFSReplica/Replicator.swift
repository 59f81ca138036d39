import Glibc
import Synchronization
import CVMFSClient
import CVMFSFormat
import CVMFSPublish

/// Makes or refreshes a stratum 1 replica: verifies the source's signature
/// chain first, fetches every catalog and object of the new revision and of
/// every tagged revision that the replica lacks, concurrently and verified,
/// and replaces `.cvmfspublished` last, atomically, so a web server serving
/// the folder never shows a half-made revision.
///
/// Resumable: objects are renamed into `data/` only once verified, and a
/// catalog only after everything below it is there. So a catalog present in
/// the replica means its whole subtree is, and a rerun after a kill skips it.
///
/// Its state is immutable after `init` (the downloader and scratch folder
/// are shared by the worker threads read-only), hence `@unchecked Sendable`.
public final class Replicator: @unchecked Sendable {
    public let options: SnapshotOptions
    let downloader: Downloader
    let verifier: ManifestVerifier
    let store: ObjectStore
    let scratch: ScratchFolder
    var folder: String { options.folder }
    var txn: String { options.folder + "/data/txn" }

    public init(options: SnapshotOptions) throws(SnapshotError) {
        self.options = options
        let keys: [RSAPublicKey]
        do { keys = try ManifestVerifier.loadPublicKeys(paths: options.publicKeyPaths) } catch { throw .configuration("\(error)") }
        guard !keys.isEmpty else { throw .configuration("no master public key given (--key)") }
        verifier = ManifestVerifier(masterKeys: keys, fqrn: options.fqrn)
        do {
            downloader = try Downloader(settings: DownloadSettings(
                hosts: [options.url], proxies: options.proxy, timeoutSeconds: options.timeoutSeconds,
                timeoutDirectSeconds: options.timeoutSeconds, maxRetries: 2, maxTransfers: max(1, options.threads),
                userAgent: "cvmfs-swift snapshot"))
        } catch {
            throw .configuration("\(error)")
        }
        do { store = try ObjectStore(root: options.folder) } catch { throw .local(path: options.folder, reason: "\(error)") }
        do { scratch = try ScratchFolder(parent: options.folder + "/data/txn", prefix: "snapshot-scratch") } catch {
            throw .local(path: options.folder, reason: "\(error)")
        }
    }

    public func run() throws(SnapshotError) -> SnapshotReport {
        let started = SnapshotProgress.now()
        removeStaleTemporaries()
        let held = try heldManifest()
        let (manifestBytes, whitelistBytes, manifest, certificate) = try fetchVerifiedManifest(minimumTimestamp: held?.timestamp ?? 0)
        if let held {
            if manifest.revision < held.revision {
                throw .replay(url: options.url, served: "revision \(manifest.revision)", held: "revision \(held.revision)")
            }
            if manifest.rootCatalog == held.rootCatalog {
                try writeRoot(".cvmfswhitelist", whitelistBytes)
                return SnapshotReport(revision: held.revision, updated: false, catalogsFetched: 0, objectsFetched: 0,
                                      bytesFetched: 0, objectsPresent: 0, seconds: SnapshotProgress.now() - started)
            }
        }
        try writeRoot(".cvmfs_is_snapshotting", Array(Self.utcNow().utf8))
        defer { unlink(folder + "/.cvmfs_is_snapshotting") }

        try certificate.install(at: folder + "/" + certificate.expected.objectPath(suffix: .certificate))
        var roots = [manifest.rootCatalog]
        if let history = manifest.history {
            let sink = try fetchObject(history, suffix: .history)
            let tags = try tags(in: sink.path, hash: history)
            try sink.install(at: folder + "/" + history.objectPath(suffix: .history))
            for tag in tags where !roots.contains(tag.rootCatalog) { roots.append(tag.rootCatalog) }
        }
        if let metainfo = manifest.metainfo, !exists(metainfo.objectPath(suffix: .metainfo)) {
            try fetchObject(metainfo, suffix: .metainfo).install(at: folder + "/" + metainfo.objectPath(suffix: .metainfo))
        }

        let walk = try fetchCatalogs(roots)
        var missing = [(hash: ContentHash, suffix: ObjectSuffix)]()
        var wanted = Set<String>()
        var present = 0
        for object in walk.objects where wanted.insert(object.hash.objectPath(suffix: object.suffix)).inserted {
            if exists(object.hash.objectPath(suffix: object.suffix)) { present += 1 } else { missing.append(object) }
        }
        let bytes = try fetchObjects(missing)
        // Deepest catalogs first: a catalog in place vouches for its subtree.
        for pending in walk.catalogs.reversed() {
            try pending.sink.install(at: folder + "/" + pending.hash.objectPath(suffix: .catalog))
        }
        if let reflog = manifest.reflog { try copyReflog(reflog) }
        // The switch: the whitelist first, so the new manifest never meets an old whitelist.
        try writeRoot(".cvmfswhitelist", whitelistBytes)
        try writeRoot(".cvmfspublished", manifestBytes)
        try writeRoot(".cvmfs_last_snapshot", Array((Self.utcNow() + "\n").utf8))
        return SnapshotReport(
            revision: manifest.revision, updated: true, catalogsFetched: walk.catalogs.count, objectsFetched: missing.count,
            bytesFetched: bytes + walk.bytes, objectsPresent: present, seconds: SnapshotProgress.now() - started)
    }

    // MARK: - Manifest

    /// The manifest the replica serves now, if any (parsed, not verified again:
    /// the replica wrote it only after verifying it).
    func heldManifest() throws(SnapshotError) -> Manifest? {
        guard let bytes = SmallFile.read(folder + "/.cvmfspublished", limit: 1 << 20) else { return nil }
        do {
            return try Manifest(parsing: try Letter(parsing: bytes, document: .manifest).payload)
        } catch {
            throw .local(path: folder + "/.cvmfspublished", reason: "the replica's manifest cannot be read: \(error)")
        }
    }

    private func fetchVerifiedManifest(minimumTimestamp: UInt64) throws(SnapshotError) -> ([UInt8], [UInt8], Manifest, ObjectFileSink) {
        let manifestBytes: [UInt8], whitelistBytes: [UInt8]
        do {
            manifestBytes = try downloader.fetchToMemory(".cvmfspublished", limit: 1 << 20)
            whitelistBytes = try downloader.fetchToMemory(".cvmfswhitelist", limit: 1 << 20)
        } catch {
            throw .download("\(error)")
        }
        let announced: Manifest
        do {
            announced = try Manifest(parsing: try Letter(parsing: manifestBytes, document: .manifest).payload)
        } catch {
            throw .signature(url: options.url + "/.cvmfspublished", reason: "\(error)")
        }
        guard let certificateHash = announced.certificate else {
            throw .signature(url: options.url + "/.cvmfspublished", reason: "the manifest names no certificate (key X)")
        }
        let certificate = try fetchObject(certificateHash, suffix: .certificate)
        do {
            let stored = SmallFile.read(certificate.path, limit: 1 << 20) ?? []
            let pem = try ObjectDecoder.decode(stored, expected: certificateHash, compression: .zlib)
            let verified = try verifier.verify(manifest: manifestBytes, whitelist: whitelistBytes, certificate: pem,
                                               now: Int64(time(nil)), minimumTimestamp: minimumTimestamp)
            return (manifestBytes, whitelistBytes, verified, certificate)
        } catch let error as SignatureError {
            certificate.discard()
            if case .outdatedTimestamp = error {
                throw .replay(url: options.url, served: "a manifest signed earlier", held: "one it already holds (\(error))")
            }
            throw .signature(url: options.url, reason: "\(error)")
        } catch {
            certificate.discard()
            throw .signature(url: options.url, reason: "certificate \(certificateHash.objectPath(suffix: .certificate)): \(error)")
        }
    }

    // MARK: - Catalogs and objects

    struct PendingCatalog: @unchecked Sendable {
        var hash: ContentHash
        var sink: ObjectFileSink
    }

    struct CatalogWalk {
        /// In breadth-first order, parents before children.
        var catalogs: [PendingCatalog] = []
        var objects: [(hash: ContentHash, suffix: ObjectSuffix)] = []
        var bytes: Int64 = 0
    }

    /// Fetches, level by level and concurrently, every catalog below `roots`
    /// that the replica does not hold, and lists the objects they reference.
    private func fetchCatalogs(_ roots: [ContentHash]) throws(SnapshotError) -> CatalogWalk {
        var walk = CatalogWalk()
        var seen = Set<ContentHash>()
        var level = roots.filter { !exists($0.objectPath(suffix: .catalog)) && seen.insert($0).inserted }
        let pool = DownloadThreads(threads: options.threads)
        while !level.isEmpty {
            let current = level
            let results = try pool.run(count: current.count) { [self] (i: Int) throws(SnapshotError) -> CatalogResult in
                try fetchCatalog(current[i])
            }
            level = []
            for result in results {
                walk.catalogs.append(PendingCatalog(hash: result.hash, sink: result.sink))
                walk.objects += result.objects
                walk.bytes += result.sink.bytes
                for nested in result.nested where !exists(nested.objectPath(suffix: .catalog)) && seen.insert(nested).inserted {
                    level.append(nested)
                }
            }
        }
        return walk
    }

    struct CatalogResult: @unchecked Sendable {
        var hash: ContentHash
        var sink: ObjectFileSink
        var objects: [(hash: ContentHash, suffix: ObjectSuffix)]
        var nested: [ContentHash]
    }

    private func fetchCatalog(_ hash: ContentHash) throws(SnapshotError) -> CatalogResult {
        let sink = try fetchObject(hash, suffix: .catalog)
        do {
            let file = try scratch.inflate(hash, storedAt: sink.path, as: hash.description)
            defer { unlink(file) }
            let catalog = try Catalog(path: file, hash: hash)
            let nested = catalog.nestedCatalogs().filter { !$0.isBindMountpoint }.compactMap(\.hash)
            return CatalogResult(hash: hash, sink: sink, objects: try catalog.referencedObjects(), nested: nested)
        } catch RepositoryError.local(let path, let reason) {
            sink.discard()
            throw .local(path: path, reason: reason)
        } catch {
            sink.discard()
            throw .catalog("catalog \(hash.objectPath(suffix: .catalog)) from \(options.url): \(error)")
        }
    }

    private func fetchObjects(_ objects: [(hash: ContentHash, suffix: ObjectSuffix)]) throws(SnapshotError) -> Int64 {
        let progress = SnapshotProgress(total: objects.count, enabled: options.showProgress)
        defer { progress.finish() }
        let fetched = try DownloadThreads(threads: options.threads).run(count: objects.count) { [self] (i: Int) throws(SnapshotError) -> Int64 in
            let object = objects[i]
            let sink = try fetchObject(object.hash, suffix: object.suffix)
            try sink.install(at: folder + "/" + object.hash.objectPath(suffix: object.suffix))
            progress.add(bytes: sink.bytes)
            return sink.bytes
        }
        return fetched.reduce(0, +)
    }

    /// Downloads one object into a verified temporary file.
    func fetchObject(_ hash: ContentHash, suffix: ObjectSuffix) throws(SnapshotError) -> ObjectFileSink {
        let sink = try ObjectFileSink(expected: hash, temporaryIn: txn)
        do {
            _ = try downloader.fetch(hash.objectPath(suffix: suffix), into: sink)
            return sink
        } catch {
            sink.discard()
            throw .download("\(hash.objectPath(suffix: suffix)): \(error)")
        }
    }

    private func tags(in storedFile: String, hash: ContentHash) throws(SnapshotError) -> [RepositoryTag] {
        let file = scratch.path + "/history"
        do {
            let plain = try ObjectDecoder.decode(SmallFile.read(storedFile, limit: 1 << 30) ?? [], expected: hash, compression: .zlib)
            if let problem = SmallFile.write(file, plain, mode: 0o600) { throw SnapshotError.local(path: file, reason: problem) }
            defer { unlink(file) }
            return try HistoryDatabase.open(path: file, writable: false).tags()
        } catch let error as SnapshotError {
            throw error
        } catch {
            throw .catalog("history \(hash.objectPath(suffix: .history)) from \(options.url): \(error)")
        }
    }

    /// The reflog as the manifest names it (key `Y`), so that the replica's
    /// own garbage collection and its replicas see the same list.
    private func copyReflog(_ expected: ContentHash) throws(SnapshotError) {
        let bytes: [UInt8]
        do { bytes = try downloader.fetchToMemory(".cvmfsreflog", limit: 1 << 30) } catch { throw .download("\(error)") }
        var hasher = ContentHasher(expected.algorithm)
        hasher.update(bytes)
        let actual = hasher.finalize()
        guard actual == expected else {
            throw .signature(url: options.url + "/.cvmfsreflog", reason: "its hash is \(actual), the manifest says \(expected)")
        }
        try writeRoot(".cvmfsreflog", bytes)
    }

    // MARK: - Files

    func exists(_ relative: String) -> Bool { access(folder + "/" + relative, F_OK) == 0 }

    private func writeRoot(_ name: String, _ bytes: [UInt8]) throws(SnapshotError) {
        do { try store.writeRootFile(name, bytes) } catch { throw .local(path: folder + "/" + name, reason: "\(error)") }
    }

    /// Half-written downloads of a killed run.
    private func removeStaleTemporaries() {
        for name in (try? DirectoryListing.strings(at: txn)) ?? [] where name.hasPrefix("snapshot-") && !scratch.path.hasSuffix(name) {
            let path = txn + "/" + name
            if unlink(path) != 0 {
                for inner in (try? DirectoryListing.strings(at: path)) ?? [] { unlink(path + "/" + inner) }
                rmdir(path)
            }
        }
    }

    static func utcNow() -> String { UTCDate.string(Int64(time(nil)), format: "%a %b %e %H:%M:%S UTC %Y") }
}
