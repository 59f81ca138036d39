import Glibc
import CVMFSFormat

/// The revision already in the output folder, if any: its number, root
/// catalog, and every catalog by mount point so unchanged ones can be kept.
struct PreviousRevision {
    struct CatalogInfo {
        var hash: ContentHash
        var size: UInt64
        var contentDigest: String?
        var statistics: CatalogStatistics
    }

    var revision: UInt64
    var rootCatalog: ContentHash
    var timestamp: UInt64
    /// The previous history database (manifest `H`), which the next one extends.
    var history: ContentHash?
    var catalogs: [String: CatalogInfo]

    /// Reads `.cvmfspublished` in `output`, checks it is this repository's
    /// and signed by its certificate, and indexes its catalogs. `nil` when
    /// the folder holds no repository yet.
    static func load(output: String, fqrn: String, keys: RepositoryKeys) throws(PublishError) -> PreviousRevision? {
        let source = FolderSource(root: output)
        guard access(output + "/.cvmfspublished", F_OK) == 0 else { return nil }
        let manifest: Manifest
        do {
            let bytes = try source.read(".cvmfspublished")
            let letter = try Letter(parsing: bytes, document: .manifest)
            manifest = try Manifest(parsing: letter.payload)
            guard manifest.fqrn == fqrn else {
                throw PublishError.existingRepository(path: output, reason: "it holds repository \(manifest.fqrn ?? "?"), not \(fqrn)")
            }
            guard try keys.certificate.publicKey().verifySHA1(signature: letter.signature, message: letter.hashLine) else {
                throw PublishError.existingRepository(path: output, reason: "its manifest is not signed by the certificate in the key directory")
            }
        } catch let error as PublishError {
            throw error
        } catch {
            throw .existingRepository(path: output, reason: "\(error)")
        }
        var previous = PreviousRevision(revision: manifest.revision, rootCatalog: manifest.rootCatalog, timestamp: manifest.timestamp ?? 0, history: manifest.history, catalogs: [:])
        let scratch = try ScratchFolder.inOutput(output + "/data/txn")
        var pending = [(path: "", hash: manifest.rootCatalog, size: manifest.catalogSize)]
        while let next = pending.popLast() {
            let catalog = try scratch.openCatalog(next.hash, from: source)
            previous.catalogs[next.path] = CatalogInfo(
                hash: next.hash, size: next.size, contentDigest: catalog.property(CatalogEmitter.contentDigestProperty),
                statistics: catalog.statistics)
            for reference in catalog.nestedCatalogs() where !reference.isBindMountpoint {
                guard let hash = reference.hash else { continue }
                pending.append((reference.path, hash, reference.size))
            }
        }
        return previous
    }
}

extension ScratchFolder {
    /// Creates a scratch folder below the output's upload area.
    static func inOutput(_ parent: String) throws(PublishError) -> ScratchFolder {
        do { return try ScratchFolder(parent: parent) } catch { throw .output(path: parent, reason: "\(error)") }
    }

    /// Inflates and verifies a catalog object into this folder and opens it.
    func openCatalog(_ hash: ContentHash, from source: FolderSource) throws(PublishError) -> Catalog {
        let file = try inflateObject(hash, suffix: .catalog, of: source, as: hash.description)
        do { return try Catalog(path: file, hash: hash) } catch {
            throw .existingRepository(path: source.root, reason: "catalog \(hash.objectPath(suffix: .catalog)): \(error)")
        }
    }

    /// Inflates and verifies a stored object of the repository in `source` into this folder.
    /// A failure to write here is the output's; a missing or corrupt object is the repository's.
    func inflateObject(_ hash: ContentHash, suffix: ObjectSuffix, of source: FolderSource, as name: String) throws(PublishError) -> String {
        do {
            return try inflate(hash, suffix: suffix, from: source, as: name)
        } catch {
            if case .local(let path, let reason) = error, path.hasPrefix(self.path + "/") { throw .output(path: path, reason: reason) }
            throw .existingRepository(path: source.root, reason: "\(error)")
        }
    }
}
