import Glibc
import CVMFSFormat

/// What a stratum 0 keeps beside its revisions so that replicas and garbage
/// collection can follow it, as upstream's server does
/// (docs/format/repository-layout.md §2 and §4.1): the tag history (manifest
/// `H`), the reflog `/.cvmfsreflog` (manifest `Y`) and the
/// `/.cvmfs_master_replica` marker.
struct RevisionBookkeeping {
    let store: ObjectStore
    let options: PublishOptions

    static let masterReplicaMarker = ".cvmfs_master_replica"
    static let reflogName = ".cvmfsreflog"

    /// Writes the new history: the previous one (or a new one), `trunk`
    /// moved to this revision, and each of `tags` pointing at it. Returns the
    /// history object's hash.
    func writeHistory(head: RepositoryTag, previous: ContentHash?, scratch: ScratchFolder) throws(PublishError) -> ContentHash {
        let file = scratch.path + "/history"
        do {
            let history: HistoryDatabase
            if let previous {
                _ = try scratch.inflateObject(previous, suffix: .history, of: FolderSource(root: store.root), as: "history")
                history = try HistoryDatabase.open(path: file, writable: true)
                try history.setPreviousRevision(previous)
            } else {
                history = try HistoryDatabase.create(path: file, fqrn: options.fqrn)
            }
            try history.moveTrunk(to: head)
            for name in options.tags {
                var tag = head
                tag.name = name
                tag.description = options.tagDescription
                try history.insert(tag)
            }
        } catch let error as PublishError {
            throw error
        } catch {
            throw .output(path: file, reason: "history database: \(error)")
        }
        return try storeFile(file, suffix: .history)
    }

    /// Adds this revision's root catalog, certificate and history to the
    /// reflog (made if missing), replaced atomically so a web server never
    /// serves half of it. Returns the hash of the file as written.
    func updateReflog(_ references: [(ContentHash, Reflog.Kind)], now: Int64, scratch: ScratchFolder) throws(PublishError) -> ContentHash {
        let live = store.root + "/" + Self.reflogName
        let file = scratch.path + "/reflog"
        do {
            let reflog: Reflog
            if access(live, F_OK) == 0 {
                try copy(live, to: file)
                reflog = try Reflog.open(path: file, writable: true)
            } else {
                reflog = try Reflog.create(path: file, fqrn: options.fqrn)
            }
            for (hash, kind) in references { try reflog.add(hash, kind: kind, timestamp: now) }
        } catch let error as PublishError {
            throw error
        } catch {
            throw .output(path: live, reason: "reflog: \(error)")
        }
        guard let bytes = SmallFile.read(file, limit: Self.databaseLimit) else {
            throw .output(path: file, reason: "cannot read back: \(errnoText())")
        }
        try store.writeRootFile(Self.reflogName, bytes)
        var hasher = ContentHasher(options.algorithm)
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// The marker upstream's `add-replica` probes before it replicates.
    func markReplicable() throws(PublishError) {
        let path = store.root + "/" + Self.masterReplicaMarker
        guard access(path, F_OK) != 0 else { return }
        try store.writeRootFile(Self.masterReplicaMarker, Array("This file marks the repository as replicable to stratum 1 servers\n".utf8))
    }

    /// History databases and reflogs stay small (one row per tag or revision).
    static let databaseLimit = 1 << 30

    private func storeFile(_ file: String, suffix: ObjectSuffix) throws(PublishError) -> ContentHash {
        guard let plain = SmallFile.read(file, limit: Self.databaseLimit) else {
            throw .output(path: file, reason: "cannot read back: \(errnoText())")
        }
        let stored: Result<ContentHash, PublishError> = plain.withUnsafeBytes { raw in
            do throws(PublishError) {
                return .success(try store.store(plain: raw, algorithm: options.algorithm, compression: .zlib, suffix: suffix))
            } catch { return .failure(error) }
        }
        return try stored.get()
    }


    private func copy(_ source: String, to file: String) throws(PublishError) {
        guard let bytes = SmallFile.read(source, limit: Self.databaseLimit) else {
            throw .existingRepository(path: source, reason: "cannot read: \(errnoText())")
        }
        if let problem = SmallFile.write(file, bytes, mode: 0o600) { throw .output(path: file, reason: problem) }
    }
}
