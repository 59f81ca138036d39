import Glibc
import CVMFSFormat

/// Removes from a repository folder every object no retained revision needs
/// (``RetainedRevisions``). Works on a stratum 0 and on a replica alike; on a
/// stratum 0 the reflog then forgets the removed root catalogs, histories and
/// certificates and the manifest is signed again for the new reflog hash.
///
/// Run it when no publication or snapshot writes into the folder: an object
/// written meanwhile by a new revision would look unreferenced.
public struct GarbageCollector {
    public struct Report: Sendable {
        public var keptRevisions: [UInt64]
        public var objectsRemoved: Int
        public var bytesFreed: Int64
        public var objectsKept: Int
    }

    public let folder: String
    public let policy: RetainedRevisions.Policy

    public init(folder: String, policy: RetainedRevisions.Policy) {
        self.folder = folder
        self.policy = policy
    }

    /// Collects, and returns what went. `resign` (a stratum 0's key folder and
    /// hash algorithm) also prunes the reflog and signs the manifest again.
    public func collect(manifest: Manifest, dryRun: Bool = false, resign: (keys: RepositoryKeys, algorithm: HashAlgorithm)? = nil) throws(PublishError) -> Report {
        let retained = try RetainedRevisions(folder: folder, manifest: manifest, policy: policy)
        var report = Report(keptRevisions: retained.rootCatalogs.map(\.revision).sorted(), objectsRemoved: 0, bytesFreed: 0, objectsKept: 0)
        for prefix in 0..<256 {
            let directory = "data/" + Hex.encode([UInt8(prefix)])
            let names: [String]
            do { names = try DirectoryListing.strings(at: folder + "/" + directory) } catch { continue }
            for name in names {
                let relative = directory + "/" + name
                if retained.objectPaths.contains(relative) {
                    report.objectsKept += 1
                    continue
                }
                var info = stat()
                guard stat(folder + "/" + relative, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
                if !dryRun {
                    guard unlink(folder + "/" + relative) == 0 else {
                        throw .output(path: folder + "/" + relative, reason: "cannot remove: \(errnoText())")
                    }
                }
                report.objectsRemoved += 1
                report.bytesFreed += Int64(info.st_size)
            }
        }
        if let resign, !dryRun { try pruneReflogAndResign(manifest: manifest, retained: retained, keys: resign.keys, algorithm: resign.algorithm) }
        return report
    }

    private func pruneReflogAndResign(manifest: Manifest, retained: RetainedRevisions, keys: RepositoryKeys, algorithm: HashAlgorithm) throws(PublishError) {
        let live = folder + "/" + RevisionBookkeeping.reflogName
        guard access(live, F_OK) == 0 else { return }
        let scratch = try ScratchFolder.inOutput(folder + "/data/txn")
        let file = scratch.path + "/reflog"
        guard let bytes = SmallFile.read(live, limit: RevisionBookkeeping.databaseLimit) else {
            throw .existingRepository(path: live, reason: "cannot read: \(errnoText())")
        }
        if let problem = SmallFile.write(file, bytes, mode: 0o600) { throw .output(path: file, reason: problem) }
        do {
            let reflog = try Reflog.open(path: file, writable: true)
            for kind in Reflog.Kind.allCases {
                for reference in try reflog.references(kind)
                where !retained.objectPaths.contains(reference.hash.objectPath(suffix: kind.suffix)) {
                    try reflog.remove(reference.hash)
                }
            }
        } catch {
            throw .existingRepository(path: live, reason: "reflog: \(error)")
        }
        guard let pruned = SmallFile.read(file, limit: RevisionBookkeeping.databaseLimit) else {
            throw .output(path: file, reason: "cannot read back: \(errnoText())")
        }
        let store = try ObjectStore(root: folder)
        try store.writeRootFile(RevisionBookkeeping.reflogName, pruned)
        var hasher = ContentHasher(algorithm)
        hasher.update(pruned)
        var signed = manifest
        signed.reflog = hasher.finalize()
        do {
            try store.writeRootFile(".cvmfspublished", try keys.signedManifest(signed, algorithm: algorithm))
        } catch let error as PublishError {
            throw error
        } catch {
            throw .keys("\(error)")
        }
    }
}
