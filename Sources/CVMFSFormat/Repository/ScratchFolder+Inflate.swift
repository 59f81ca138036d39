import Glibc

extension ScratchFolder {
    /// Streams the stored object `hash` from `source` into the file `name` of
    /// this folder, verifying its hash and inflating it on the way, and
    /// returns the file's path. No object is held in memory whole, so a
    /// catalog of any size inflates in constant memory. On any failure the
    /// file is removed and the error names the object.
    public func inflate(_ hash: ContentHash, suffix: ObjectSuffix, from source: some RepositorySource,
                        as name: String) throws(RepositoryError) -> String {
        try inflate(hash, from: source, at: hash.objectPath(suffix: suffix), as: name)
    }

    /// The same for a stored object already on this machine at `storedFile`
    /// (one just downloaded, say).
    public func inflate(_ hash: ContentHash, storedAt storedFile: String, as name: String) throws(RepositoryError) -> String {
        let slash = storedFile.lastIndex(of: "/")
        let folder = FolderSource(root: slash.map { String(storedFile[..<$0]) } ?? ".")
        let base = slash.map { String(storedFile[storedFile.index(after: $0)...]) } ?? storedFile
        do {
            return try inflate(hash, from: folder, at: base, as: name)
        } catch .object(_, let problem) {
            // Named by the file itself, not by its name inside the folder.
            throw .object(path: storedFile, problem)
        }
    }

    private func inflate(_ hash: ContentHash, from source: some RepositorySource, at relativePath: String,
                         as name: String) throws(RepositoryError) -> String {
        let file = path + "/" + name
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .local(path: file, reason: errnoText()) }
        do throws(RepositoryError) {
            try source.streamObject(hash, at: relativePath, compression: .zlib) { plain throws(ObjectError) in
                var offset = 0
                while offset < plain.count {
                    let n = write(fd, plain.baseAddress! + offset, plain.count - offset)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw .sinkFailed(object: hash, reason: "cannot write: \(errnoText())")
                    }
                    offset += n
                }
            }
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
