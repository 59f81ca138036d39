import Glibc

/// A repository in a local folder, laid out as a web server serves it.
public struct FolderSource: RepositorySource {
    public let root: String

    public init(root: String) {
        self.root = root
    }

    public var location: String { root }

    public func read(_ relativePath: String, into body: (UnsafeRawBufferPointer) throws(ObjectError) -> Void) throws(RepositoryError) {
        let path = root + "/" + relativePath
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw .unavailable(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        let size = 1 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, size)
            if n < 0 {
                if errno == EINTR { continue }
                throw .unavailable(path: path, reason: String(cString: strerror(errno)))
            }
            if n == 0 { return }
            do {
                try body(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            } catch {
                throw .object(path: relativePath, error)
            }
        }
    }
}
