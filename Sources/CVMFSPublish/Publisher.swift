import Glibc
import CVMFSFormat

/// Publishes a directory tree as a CernVM-FS repository: content objects,
/// catalogs (nested wherever a `.cvmfscatalog` marker is), the certificate,
/// a signed whitelist and a signed manifest.
///
/// Publishing into a folder that already holds a revision of the same
/// repository makes the next revision: objects that exist are not written
/// again, and a nested catalog whose content did not change keeps its object.
public struct Publisher {
    public let options: PublishOptions

    public init(options: PublishOptions) throws(PublishError) {
        if let problem = options.chunking.problem { throw .invalidOptions(problem) }
        for tag in options.tags where !RepositoryTag.isValidCustomName(tag) {
            throw .invalidOptions("tag name '\(tag)' is invalid: use letters, digits, '-', '_', '.', '/' and ':'; 'trunk' and 'trunk-previous' are kept by the publisher")
        }
        guard Self.isValidRepositoryName(options.fqrn) else {
            throw .invalidOptions("repository name '\(options.fqrn)' is invalid: use letters, digits, '.', '_' and '-', at most 60 characters, with at least one dot")
        }
        self.options = options
    }

    static func isValidRepositoryName(_ name: String) -> Bool {
        let allowed = name.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2E || c == 0x5F || c == 0x2D
        }
        return allowed && !name.isEmpty && name.utf8.count <= 60 && name.contains(".")
    }

    public func publish(source: String, output: String) throws(PublishError) -> PublishReport {
        let started = monotonicSeconds()
        let now = options.now ?? Int64(time(nil))
        let keys = try loadKeys()
        let store = try ObjectStore(root: output)
        let previous = try PreviousRevision.load(output: output, fqrn: options.fqrn, keys: keys)
        var tree = try SourceTree.scan(source)
        for profile in options.profiles { try tree.addProfile(profile) }

        let contents = try ingestFiles(tree, store: store)
        let layout = CatalogLayout(tree: tree, contents: contents)
        let writer = try CatalogEmitter(
            store: store, options: options, revision: (previous?.revision ?? 0) + 1, now: now,
            previous: previous)
        let root = try writer.emitRootCatalog(layout)

        let certificate = keys.certificateObject(algorithm: options.algorithm)
        try store.store(certificate.stored, hash: certificate.hash, suffix: .certificate)

        let bookkeeping = RevisionBookkeeping(store: store, options: options)
        let scratch = try ScratchFolder.inOutput(output + "/data/txn")
        let head = RepositoryTag(
            name: RepositoryTag.trunk, rootCatalog: root.hash, revision: writer.revision, timestamp: now,
            description: "", catalogSize: UInt64(root.size))
        let history = try bookkeeping.writeHistory(head: head, previous: previous?.history, scratch: scratch)
        let reflog = try bookkeeping.updateReflog(
            [(root.hash, .catalog), (certificate.hash, .certificate), (history, .history)], now: now, scratch: scratch)
        try bookkeeping.markReplicable()
        let manifest = Manifest(
            rootCatalog: root.hash, catalogSize: UInt64(root.size), ttl: options.ttl, revision: writer.revision,
            garbageCollectable: true, fqrn: options.fqrn, certificate: certificate.hash, history: history,
            timestamp: UInt64(now), reflog: reflog)
        do {
            // Whitelist first: a client that sees the new manifest must find a
            // whitelist that lists its certificate.
            try store.writeRootFile(".cvmfswhitelist", try keys.signedWhitelist(algorithm: options.algorithm, validForDays: options.whitelistValidityDays, now: now))
            try store.writeRootFile(".cvmfspublished", try keys.signedManifest(manifest, algorithm: options.algorithm))
        } catch let error as PublishError {
            throw error
        } catch {
            throw .keys("\(error)")
        }

        let stats = store.statistics
        return PublishReport(
            revision: writer.revision, rootCatalog: root.hash, history: history, entries: tree.entries.count,
            regularFiles: layout.regularFileCount, bytesRead: layout.regularBytes,
            objectsWritten: stats.written, objectBytesWritten: stats.writtenBytes, objectsReused: stats.reused,
            catalogsWritten: writer.catalogsWritten, catalogsReused: writer.catalogsReused,
            seconds: monotonicSeconds() - started)
    }

    /// Hashes and compresses every regular file once (hard links share the
    /// work), on all cores.
    private func ingestFiles(_ tree: SourceTree, store: ObjectStore) throws(PublishError) -> [Int: FileContent] {
        var firstOfInode = [InodeKey: Int]()
        var work = [Int]()
        var aliases = [(alias: Int, original: Int)]()
        for (index, entry) in tree.entries.enumerated() where entry.kind == .regular {
            if entry.linkCountOnDisk > 1 {
                let key = InodeKey(device: entry.device, inode: entry.inode)
                if let original = firstOfInode[key] {
                    aliases.append((index, original))
                    continue
                }
                firstOfInode[key] = index
            }
            work.append(index)
        }
        let ingester = FileIngester(
            store: store, algorithm: options.algorithm, compression: options.compression,
            chunker: options.chunking.enabled ? ContentDefinedChunker(parameters: options.chunking) : nil)
        let pool = IngestionPool(threads: options.threads > 0 ? options.threads : Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        let entries = tree.entries
        let files = work
        let plans = try pool.run(count: files.count) { (i: Int) throws(PublishError) -> [FileIngester.Piece] in
            try ingester.plan(entries[files[i]], file: files[i])
        }
        // Largest pieces first, so one big object does not finish last alone.
        let pieces = plans.flatMap { $0 }.sorted { $0.length > $1.length }
        let hashes = try pool.run(count: pieces.count) { (i: Int) throws(PublishError) -> ContentHash in
            try ingester.store(pieces[i], of: entries[pieces[i].file])
        }
        var hashOfPiece = [PieceKey: ContentHash](minimumCapacity: pieces.count)
        for (piece, hash) in zip(pieces, hashes) { hashOfPiece[PieceKey(file: piece.file, offset: piece.offset)] = hash }
        var contents = [Int: FileContent](minimumCapacity: tree.entries.count)
        for plan in plans {
            guard let file = plan.first?.file else { continue }
            let planHashes = plan.map { hashOfPiece[PieceKey(file: $0.file, offset: $0.offset)]! }
            contents[file] = FileIngester.content(of: plan, hashes: planHashes)
        }
        for (alias, original) in aliases { contents[alias] = contents[original] }
        return contents
    }

    private func loadKeys() throws(PublishError) -> RepositoryKeys {
        do {
            return try RepositoryKeys(directory: options.keyDirectory, fqrn: options.fqrn)
        } catch {
            throw .keys("\(error)")
        }
    }
}

struct PieceKey: Hashable {
    var file: Int
    var offset: Int
}

struct InodeKey: Hashable {
    var device: UInt64
    var inode: UInt64
}

func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
