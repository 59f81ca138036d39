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
        let file = path + "/" + name
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .local(path: file, reason: errnoText()) }
        var decoder = ObjectDecoder(expected: hash, compression: .zlib)
        do throws(RepositoryError) {
            try source.read(objectPath) { (chunk: UnsafeRawBufferPointer) throws(ObjectError) in
                try decoder.consume(chunk) { plain in
                    var offset = 0
                    while offset < plain.count {
                        let n = write(fd, plain.baseAddress! + offset, plain.count - offset)
                        if n < 0 {
                            if errno == EINTR { continue }
                            throw ObjectError.sinkFailed(object: hash, reason: "cannot write \(file): \(errnoText())")
                        }
                        offset += n
                    }
                }
            }
            do { try decoder.finish() } catch { throw .object(path: objectPath, error) }
        } catch {
            close(fd)
            unlink(file)
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
