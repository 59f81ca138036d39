import Glibc

/// Reads a repository from a `RepositorySource` without mounting it: verifies
/// the signature chain first, then reads catalogs and objects, checking every
/// object's hash while it streams in.
///
/// Catalogs are inflated into a private temporary folder, removed when the
/// reader goes away.
public final class RepositoryReader {
    public let source: any RepositorySource
    public let manifest: Manifest
    public let fqrn: String
    private let scratch: ScratchFolder
    private var catalogs: [ContentHash: Catalog] = [:]

    /// Verifies the chain (docs/format/manifest-and-signatures.md §5) with `publicKeys`.
    /// Without `fqrn`, the manifest's own `N` is used; the whitelist must
    /// still name the same repository.
    public init(source: any RepositorySource, publicKeys: [RSAPublicKey], fqrn: String? = nil, now: Int64? = nil) throws(RepositoryError) {
        self.source = source
        let manifestBytes = try source.read(".cvmfspublished")
        let name: String
        if let fqrn {
            name = fqrn
        } else {
            do {
                let letter = try Letter(parsing: manifestBytes, document: .manifest)
                name = try Manifest(parsing: letter.payload).fqrn ?? ""
            } catch {
                throw .signature(error)
            }
        }
        let verifier = ManifestVerifier(masterKeys: publicKeys, fqrn: name)
        let unverified: Manifest
        do { unverified = try verifier.checkManifest(manifestBytes) } catch { throw .signature(error) }
        guard let certificateHash = unverified.certificate else {
            throw .signature(.manifestIncomplete(missingKey: "X"))
        }
        let certificate = try Self.readObject(source, certificateHash, suffix: .certificate, compression: .zlib)
        let whitelist = try source.read(".cvmfswhitelist")
        do {
            manifest = try verifier.verify(manifest: manifestBytes, whitelist: whitelist, certificate: certificate, now: now ?? Int64(time(nil)))
        } catch {
            throw .signature(error)
        }
        self.fqrn = name
        scratch = try ScratchFolder(parent: "/tmp", prefix: "cvmfs-swift-reader-")
    }

    deinit {
        // Close the catalogs before their files go with the scratch folder.
        catalogs.removeAll()
    }

    /// Fetches an object whole, verified and inflated.
    static func readObject(_ source: any RepositorySource, _ hash: ContentHash, suffix: ObjectSuffix, compression: Compression, expectedSize: UInt64? = nil) throws(RepositoryError) -> [UInt8] {
        var out = [UInt8]()
        try source.streamObject(hash, at: hash.objectPath(suffix: suffix), compression: compression, expectedSize: expectedSize) {
            out.append(contentsOf: $0)
        }
        return out
    }

    /// Streams a verified, inflated object to `body`.
    public func streamObject(_ hash: ContentHash, suffix: ObjectSuffix, compression: Compression, expectedSize: UInt64?, into body: (UnsafeRawBufferPointer) throws(ObjectError) -> Void) throws(RepositoryError) {
        try source.streamObject(hash, at: hash.objectPath(suffix: suffix), compression: compression, expectedSize: expectedSize, into: body)
    }

    /// The catalog with this hash, downloaded, verified and inflated once.
    public func catalog(_ hash: ContentHash) throws(RepositoryError) -> Catalog {
        if let open = catalogs[hash] { return open }
        let file = try scratch.inflate(hash, suffix: .catalog, from: source, as: hash.description + ".sqlite")
        do {
            let catalog = try Catalog(path: file, hash: hash)
            catalogs[hash] = catalog
            return catalog
        } catch {
            throw .catalog(error)
        }
    }

    public var rootCatalog: Catalog {
        get throws(RepositoryError) { try catalog(manifest.rootCatalog) }
    }
}
