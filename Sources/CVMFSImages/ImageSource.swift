import CVMFSFormat
import Glibc
import Synchronization

/// Where images come from: a registry, an OCI image layout or a `docker save` archive.
///
/// Blobs are fetched by several threads at once (`LayerScheduler`), hence `Sendable`.
protocol ImageSource: AnyObject, Sendable {
    /// The platform-specific manifest of `reference`.
    func resolve(_ reference: ImageReference, platform: Platform) throws(ImageError) -> ResolvedImage
    /// Stores the blob at `path`, verified against its digest, handing each chunk to `received`
    /// as it is written (an error thrown there stops the fetch). Nothing is at `path` unless
    /// the digest matched; a fetch cut short leaves at most `<path>.part`, redone next time.
    func fetch(_ digest: Digest, size: Int64?, image: ImageReference, to path: String,
               received: (UnsafeRawBufferPointer) throws(ImageError) -> Void) throws(ImageError)
    /// The tags of the image's repository (for wildcard inputs).
    func tags(_ reference: ImageReference) throws(ImageError) -> [String]
}

/// Images in a registry (v2 API).
final class RegistrySource: ImageSource, @unchecked Sendable {  // the idle clients are kept under a lock
    /// Idle clients by `scheme://registry`. A client (one connection) serves one thread at a
    /// time: each fetch borrows one, or makes one when all are busy, and gives it back.
    private let idle = Mutex<[String: [RegistryClient]]>([:])

    private func borrow(_ reference: ImageReference) throws(ImageError) -> (key: String, client: RegistryClient) {
        guard case .registry(let scheme) = reference.source else { fatalError("not a registry reference") }
        let key = "\(scheme)://\(reference.registry)"
        if let client = idle.withLock({ $0[key]?.popLast() }) { return (key, client) }
        let client = try RegistryClient(scheme: scheme, registry: reference.registry,
                                        credentials: Credentials.fromEnvironment(registry: reference.registry))
        return (key, client)
    }

    private func giveBack(_ borrowed: (key: String, client: RegistryClient)) {
        idle.withLock { $0[borrowed.key, default: []].append(borrowed.client) }
    }

    private func withClient<R>(_ reference: ImageReference, _ body: (RegistryClient) throws(ImageError) -> R) throws(ImageError) -> R {
        let borrowed = try borrow(reference)
        defer { giveBack(borrowed) }
        return try body(borrowed.client)
    }

    func resolve(_ reference: ImageReference, platform: Platform) throws(ImageError) -> ResolvedImage {
        let name = reference.digest?.description ?? reference.tag!
        var (bytes, mediaType, digest) = try withClient(reference) { (client) throws(ImageError) in
            try client.manifest(repository: reference.repository, reference: name)
        }
        var document = try JSON.decode(ManifestDocument.self, bytes, what: "manifest of \(reference)")
        if MediaType.isIndex(document.mediaType ?? mediaType) || (document.manifests != nil && document.layers == nil) {
            let chosen = try document.select(platform: platform, what: reference.description)
            (bytes, mediaType, digest) = try withClient(reference) { (client) throws(ImageError) in
                try client.manifest(repository: reference.repository, reference: chosen.digest)
            }
            document = try JSON.decode(ManifestDocument.self, bytes, what: "manifest \(chosen.digest) of \(reference)")
        }
        let parts = try document.imageParts(what: reference.description)
        return ResolvedImage(reference: reference, manifestDigest: digest, manifestBytes: bytes,
                             configDigest: parts.config, layers: parts.layers)
    }

    func fetch(_ digest: Digest, size: Int64?, image: ImageReference, to path: String,
               received: (UnsafeRawBufferPointer) throws(ImageError) -> Void) throws(ImageError) {
        let temporary = path + ".part"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .io(path: temporary, reason: "create: \(errnoText())") }
        let writer = DigestingWriter(fd: fd, path: temporary)
        do {
            try withClient(image) { (client) throws(ImageError) in
                try withoutActuallyEscaping(received) { received throws(ImageError) in
                    try client.blob(repository: image.repository, digest: digest) { (chunk: UnsafeRawBufferPointer) throws(ImageError) in
                        try writer.write(chunk)
                        try received(chunk)
                    }
                }
            }
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        close(fd)
        let actual = writer.finalize()
        guard actual == digest else {
            unlink(temporary)
            throw .digestMismatch(what: "blob of \(image)", expected: digest.description, actual: actual.description)
        }
        try FS.rename(temporary, path)
    }

    func tags(_ reference: ImageReference) throws(ImageError) -> [String] {
        try withClient(reference) { (client) throws(ImageError) in try client.tags(repository: reference.repository) }
    }
}

/// An OCI image layout folder (`oci-layout`, `index.json`, `blobs/sha256/…`).
final class OCILayoutSource: ImageSource, @unchecked Sendable {  // nothing changes after init
    private let root: String

    init(root: String) throws(ImageError) {
        self.root = root
        guard FS.exists(root + "/index.json") else { throw .notFound("\(root) is not an OCI image layout (no index.json)") }
    }

    func blobPath(_ digest: Digest) -> String { "\(root)/blobs/\(digest.algorithm)/\(digest.hex)" }

    private func readBlob(_ digest: Digest, what: String) throws(ImageError) -> [UInt8] {
        guard FS.exists(blobPath(digest)) else { throw .notFound("\(what): blob \(digest) is missing from \(root)") }
        let bytes = try FS.read(blobPath(digest))
        let actual = SHA256Hasher.digest(bytes)
        guard actual == digest else { throw .digestMismatch(what: "\(what) in \(root)", expected: digest.description, actual: actual.description) }
        return bytes
    }

    func resolve(_ reference: ImageReference, platform: Platform) throws(ImageError) -> ResolvedImage {
        let index = try JSON.decode(ManifestDocument.self, try FS.read(root + "/index.json"), what: "\(root)/index.json")
        let manifests = index.manifests ?? []
        let tag = reference.tag ?? "latest"
        let named = manifests.filter { d in
            guard let name = d.annotations?["org.opencontainers.image.ref.name"] else { return false }
            return name == tag || name.hasSuffix(":" + tag)
        }
        var descriptor: Descriptor
        if let first = named.first {
            descriptor = first
        } else if manifests.count == 1, manifests[0].annotations?["org.opencontainers.image.ref.name"] == nil {
            descriptor = manifests[0]
        } else {
            throw .notFound("tag '\(tag)' in OCI layout \(root)")
        }
        var digest = try Digest.parse(descriptor.digest, what: "\(root)/index.json")
        var bytes = try readBlob(digest, what: "manifest")
        var document = try JSON.decode(ManifestDocument.self, bytes, what: "manifest \(digest)")
        if MediaType.isIndex(document.mediaType ?? descriptor.mediaType) || (document.manifests != nil && document.layers == nil) {
            descriptor = try document.select(platform: platform, what: reference.description)
            digest = try Digest.parse(descriptor.digest, what: "index \(digest)")
            bytes = try readBlob(digest, what: "manifest")
            document = try JSON.decode(ManifestDocument.self, bytes, what: "manifest \(digest)")
        }
        let parts = try document.imageParts(what: reference.description)
        return ResolvedImage(reference: reference, manifestDigest: digest, manifestBytes: bytes,
                             configDigest: parts.config, layers: parts.layers)
    }

    func fetch(_ digest: Digest, size: Int64?, image: ImageReference, to path: String,
               received: (UnsafeRawBufferPointer) throws(ImageError) -> Void) throws(ImageError) {
        guard FS.exists(blobPath(digest)) else { throw .notFound("blob \(digest) is missing from \(root)") }
        try FS.copyVerified(from: blobPath(digest), to: path, digest: digest, what: "blob in \(root)", received: received)
    }

    func tags(_ reference: ImageReference) throws(ImageError) -> [String] {
        let index = try JSON.decode(ManifestDocument.self, try FS.read(root + "/index.json"), what: "\(root)/index.json")
        return (index.manifests ?? []).compactMap { $0.annotations?["org.opencontainers.image.ref.name"] }
    }
}

/// A `docker save` archive, unpacked once into a work folder. Its layers are plain tars named
/// in `manifest.json`; a Docker v2 schema 2 manifest is made for it (digests computed).
final class DockerArchiveSource: ImageSource, @unchecked Sendable {  // `files` is filled by resolve, before any fetch
    private let archive: String
    private let folder: String
    private var files: [Digest: String] = [:]

    init(archive: String, workFolder: String) throws(ImageError) {
        self.archive = archive
        folder = workFolder
        guard FS.exists(archive) else { throw .notFound("docker archive \(archive)") }
        try FS.remove(folder)
        let applier = try LayerApplier(root: folder, whiteouts: .keep)
        _ = try applier.apply(layerFile: archive, name: archive)
    }

    func resolve(_ reference: ImageReference, platform: Platform) throws(ImageError) -> ResolvedImage {
        let entries = try JSON.decode([DockerArchiveEntry].self, try FS.read(folder + "/manifest.json"), what: "\(archive): manifest.json")
        var named = reference
        let wanted = reference.repository.isEmpty ? nil : reference
        var chosen: DockerArchiveEntry?
        for entry in entries {
            let tags = try (entry.RepoTags ?? []).map { (tag: String) throws(ImageError) -> ImageReference in
                do { return try ImageReference.parse(tag) } catch { throw .reference("\(archive): \(error)") }
            }
            if let wanted {
                if tags.contains(where: { $0.registry == wanted.registry && $0.repository == wanted.repository && $0.tag == wanted.tag }) || entries.count == 1 {
                    chosen = entry
                    break
                }
            } else if let first = tags.first {
                chosen = entry
                named = ImageReference(source: reference.source, registry: first.registry, repository: first.repository, tag: first.tag, digest: first.tag == nil ? first.digest : nil)
                break
            }
        }
        guard let entry = chosen else {
            throw .notFound(wanted.map { "\($0.publicPath) in \(archive)" } ?? "\(archive) names no image (RepoTags is empty): use 'docker-archive:<file> as registry/repo:tag'")
        }
        func describe(_ relative: String, type: String) throws(ImageError) -> Descriptor {
            let path = folder + "/" + relative
            let stream = HashingStream(source: try FileStream(path: path))
            let digest = try stream.finish()
            files[digest] = path
            return Descriptor(mediaType: type, digest: digest.description, size: stream.count)
        }
        let config = try describe(entry.Config, type: MediaType.dockerConfig)
        var layers: [Descriptor] = []
        for layer in entry.Layers { layers.append(try describe(layer, type: MediaType.dockerLayerTar)) }
        let document = ManifestDocument(schemaVersion: 2, mediaType: MediaType.dockerManifest, config: config, layers: layers)
        let bytes = JSON.encode(document)
        let parts = try document.imageParts(what: archive)
        return ResolvedImage(reference: named, manifestDigest: SHA256Hasher.digest(bytes), manifestBytes: bytes,
                             configDigest: parts.config, layers: parts.layers)
    }

    func fetch(_ digest: Digest, size: Int64?, image: ImageReference, to path: String,
               received: (UnsafeRawBufferPointer) throws(ImageError) -> Void) throws(ImageError) {
        guard let file = files[digest] else { throw .notFound("blob \(digest) in \(archive)") }
        try FS.copyVerified(from: file, to: path, digest: digest, what: "\(archive)", received: received)
    }

    func tags(_ reference: ImageReference) throws(ImageError) -> [String] { [] }
}

/// Writes a download to a descriptor while hashing it.
final class DigestingWriter {
    private let fd: Int32
    private let path: String
    private var hasher = SHA256Hasher()
    private(set) var count: Int64 = 0

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    func write(_ chunk: UnsafeRawBufferPointer) throws(ImageError) {
        var offset = 0
        while offset < chunk.count {
            let n = Glibc.write(fd, chunk.baseAddress! + offset, chunk.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, reason: "write: \(errnoText())")
            }
            offset += n
        }
        hasher.update(chunk)
        count += Int64(chunk.count)
    }

    func finalize() -> Digest { hasher.finalize() }
}
