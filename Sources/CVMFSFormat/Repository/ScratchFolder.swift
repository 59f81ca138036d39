import Glibc

/// A private temporary folder (for inflated catalogs), removed with its
/// files when the last reference goes away.
public final class ScratchFolder {
    public let path: String

    /// Creates `<parent>/<prefix>XXXXXX`.
    public init(parent: String, prefix: String = "scratch") throws(RepositoryError) {
        var template = Array((parent + "/" + prefix + "XXXXXX").utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw .local(path: parent, reason: "cannot create a temporary folder: \(String(cString: strerror(errno)))")
        }
        path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    deinit {
        if let dir = opendir(path) {
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
                if name != "." && name != ".." { unlink(path + "/" + name) }
            }
            closedir(dir)
        }
        rmdir(path)
    }
}
