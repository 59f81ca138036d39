import Glibc

/// A private temporary folder (for inflated catalogs), removed with its
/// files when the last reference goes away.
public final class ScratchFolder {
    public let path: String

    /// Creates `<parent>/<prefix>XXXXXX`.
    public init(parent: String, prefix: String = "scratch") throws(RepositoryError) {
        var template = Array((parent + "/" + prefix + "XXXXXX").utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw .local(path: parent, reason: "cannot create a temporary folder: \(errnoText())")
        }
        path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    deinit {
        for name in (try? DirectoryListing.strings(at: path)) ?? [] { unlink(path + "/" + name) }
        rmdir(path)
    }
}
