import Glibc

extension ScratchFolder {
    /// Streams the stored object `hash` from `source` into the file `name` of
    /// this folder, verifying its hash and inflating it on the way, and
    /// returns the file's path. No object is held in memory whole, so a
    /// catalog of any size inflates in constant memory. On any failure the
    /// file is removed and the error names the object.
    public func inflate(_ hash: ContentHash, suffix: ObjectSuffix, from source: some RepositorySource,
                        as name: String) throws(RepositoryError) -> String {
        let objectPath = hash.objectPath(suffix: suffix)
        return try inflate(hash, named: objectPath, as: name) { body throws(RepositoryError) in try source.read(objectPath, into: body) }
    }

    /// The same for a stored object already on this machine at `storedFile`
    /// (one just downloaded, say).
    public func inflate(_ hash: ContentHash, storedAt storedFile: String, as name: String) throws(RepositoryError) -> String {
        let slash = storedFile.lastIndex(of: "/") ?? storedFile.startIndex
        let folder = FolderSource(root: String(storedFile[..<slash]))
        let base = String(storedFile[storedFile.index(after: slash)...])
        return try inflate(hash, named: storedFile, as: name) { body throws(RepositoryError) in try folder.read(base, into: body) }
    }

    private func inflate(_ hash: ContentHash, named objectPath: String, as name: String,
                         reading: ((UnsafeRawBufferPointer) throws(ObjectError) -> Void) throws(RepositoryError) -> Void) throws(RepositoryError) -> String {
        let file = path + "/" + name
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .local(path: file, reason: errnoText()) }
        var decoder = ObjectDecoder(expected: hash, compression: .zlib)
        do throws(RepositoryError) {
            try reading { (chunk: UnsafeRawBufferPointer) throws(ObjectError) in
                try decoder.consume(chunk) { plain in
                    var offset = 0
                    while offset < plain.count {
                        let n = write(fd, plain.baseAddress! + offset, plain.count - offset)
                        if n < 0 {
                            if errno == EINTR { continue }
                            throw ObjectError.sinkFailed(object: hash, reason: "cannot write: \(errnoText())")
                        }
                        offset += n
                    }
                }
            }
            do { try decoder.finish() } catch { throw .object(path: objectPath, error) }
        } catch {
            close(fd)
            unlink(file)
            // A write here that failed is this machine's problem, not the object's.
            if case .object(_, .sinkFailed(_, let reason)) = error { throw .local(path: file, reason: reason) }
            throw error
        }
        guard close(fd) == 0 else {
            let reason = errnoText()
            unlink(file)
            throw .local(path: file, reason: reason)
        }
        return file
    }
}
