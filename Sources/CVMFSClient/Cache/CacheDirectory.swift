#if canImport(Glibc)
import Glibc
#endif
import CVMFSFormat

/// The on-disk layout of a POSIX cache directory (docs/format/client-behaviour.md §10):
/// `00`…`ff` for inflated objects (each made when its first object lands:
/// creating all 256 up front costs a fresh mount ~50 ms on a journaling disk), `txn/` for downloads in progress,
/// `quarantaine/` for objects that failed the size check, the `.cvmfscache`
/// sentinel, `cachedb` and the `cvmfschecksum.<fqrn>` breadcrumbs.
public struct CacheDirectory: Sendable {
    /// The cache directory, without a trailing slash.
    public let path: String

    /// Creates the layout (mode 0700) where it is missing and checks that
    /// the parts that exist are directories.
    public init(path: String) throws(CacheError) {
        var trimmed = path
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        self.path = trimmed
        try Self.makeDirectory(trimmed)
        try Self.makeDirectory(txnPath)
        try Self.makeDirectory(quarantinePath)
        let sentinel = trimmed + "/.cvmfscache"
        do {
            let fd = try CacheSyscall.open(sentinel, O_WRONLY | O_CREAT, 0o600)
            CacheSyscall.close(fd)
        } catch {
            throw .io(operation: "create", path: sentinel, errno: error.rawValue)
        }
    }

    /// `txn/`: downloads in progress.
    public var txnPath: String { path + "/txn" }
    /// `quarantaine/`: objects whose inflated size was wrong (upstream's spelling).
    public var quarantinePath: String { path + "/quarantaine" }
    /// Present while a private cache is open: found at open, it means the
    /// last user crashed and the database must be checked against the disk.
    public var crashGuardPath: String { path + "/running.cvmfs-swift" }
    /// `cachedb`: the LRU database of a managed cache.
    public var databasePath: String { path + "/cachedb" }

    /// `<dir>/<xx>/<rest><algid>`.
    public func objectPath(_ hash: ContentHash) -> String { path + "/" + hash.cachePath }

    /// Renames a verified temporary file to the object's name, making its
    /// bucket directory if this is the bucket's first object.
    func moveIntoPlace(_ temporary: String, _ hash: ContentHash) throws(CacheSyscall.Errno) {
        let final = objectPath(hash)
        do {
            try CacheSyscall.rename(temporary, final)
        } catch where error == .noSuchFile {
            let bucket = path + "/" + hash.cachePath.prefix(2)
            if mkdir(bucket, 0o700) != 0 && errno != EEXIST { throw CacheSyscall.Errno(rawValue: errno) }
            try CacheSyscall.rename(temporary, final)
        }
    }

    /// `<dir>/quarantaine/<printable hash>`.
    public func quarantinePath(_ hash: ContentHash) -> String { quarantinePath + "/" + hash.description }

    /// `<dir>/cvmfschecksum.<fqrn>`.
    public func breadcrumbPath(fqrn: String) -> String { path + "/cvmfschecksum." + fqrn }

    /// Reads the breadcrumb of `fqrn`; `nil` if there is none or it is malformed.
    /// Reads at most 164 bytes, like upstream.
    public func readBreadcrumb(fqrn: String) throws(CacheError) -> CacheBreadcrumb? {
        let file = breadcrumbPath(fqrn: fqrn)
        let fd: CInt
        do { fd = try CacheSyscall.open(file, O_RDONLY) } catch {
            if error == .noSuchFile { return nil }
            throw .io(operation: "open", path: file, errno: error.rawValue)
        }
        defer { CacheSyscall.close(fd) }
        var buffer = [UInt8](repeating: 0, count: 164)
        let count: Int
        do throws(CacheSyscall.Errno) {
            let result = buffer.withUnsafeMutableBytes { raw -> Result<Int, CacheSyscall.Errno> in
                do throws(CacheSyscall.Errno) { return .success(try CacheSyscall.pread(fd, raw, 0)) } catch { return .failure(error) }
            }
            count = try result.get()
        } catch {
            throw .io(operation: "read", path: file, errno: error.rawValue)
        }
        return CacheBreadcrumb(text: String(decoding: buffer[..<count], as: UTF8.self))
    }

    /// Writes the breadcrumb of `fqrn` atomically (temp file in `txn/`, then rename).
    public func writeBreadcrumb(_ breadcrumb: CacheBreadcrumb, fqrn: String) throws(CacheError) {
        let (fd, temp): (CInt, String)
        do { (fd, temp) = try CacheSyscall.mkstemp(txnPath + "/breadcrumbXXXXXX") } catch {
            throw .io(operation: "mkstemp", path: txnPath, errno: error.rawValue)
        }
        defer { CacheSyscall.close(fd) }
        let bytes = Array(breadcrumb.text.utf8)
        do throws(CacheSyscall.Errno) {
            let result = bytes.withUnsafeBytes { raw -> Result<Void, CacheSyscall.Errno> in
                do throws(CacheSyscall.Errno) { return .success(try CacheSyscall.pwriteAll(fd, raw, 0)) } catch { return .failure(error) }
            }
            try result.get()
            _ = Glibc.fchmod(fd, 0o600)
            try CacheSyscall.rename(temp, breadcrumbPath(fqrn: fqrn))
        } catch {
            try? CacheSyscall.unlink(temp)
            throw .io(operation: "write", path: breadcrumbPath(fqrn: fqrn), errno: error.rawValue)
        }
    }

    /// `00` … `ff`.
    static func bucketName(_ i: Int) -> String {
        let digits: [Character] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c", "d", "e", "f"]
        return String([digits[i >> 4], digits[i & 15]])
    }

    private static func makeDirectory(_ dir: String) throws(CacheError) {
        do { try CacheSyscall.mkdir(dir, 0o700) } catch {
            throw .io(operation: "mkdir", path: dir, errno: error.rawValue)
        }
        let info: (isDirectory: Bool, size: Int64, atime: Int64)
        do { info = try CacheSyscall.stat(dir) } catch {
            throw .io(operation: "stat", path: dir, errno: error.rawValue)
        }
        if !info.isDirectory { throw .invalidLayout(path: dir, reason: "exists but is not a directory") }
    }

    /// Writes `xx/<rest><algid>\0` for `hash` into `buffer` (at least 64 bytes)
    /// without allocating: the cache-hit path opens objects with `openat`
    /// relative to the cache directory's descriptor.
    @inline(__always)
    static func writeRelativePath(_ hash: ContentHash, into buffer: UnsafeMutablePointer<CChar>) {
        let hexDigits: StaticString = "0123456789abcdef"
        hexDigits.withUTF8Buffer { digits in
            hash.withDigest { digest in
                var out = 0
                for (i, byte) in digest.enumerated() {
                    buffer[out] = CChar(bitPattern: digits[Int(byte >> 4)])
                    buffer[out + 1] = CChar(bitPattern: digits[Int(byte & 15)])
                    out += 2
                    if i == 0 { buffer[out] = 0x2F; out += 1 }  // "/"
                }
                // The algorithm id: a static suffix, copied byte by byte.
                let id: StaticString
                switch hash.algorithm {
                case .sha1: id = ""
                case .rmd160: id = "-rmd160"
                case .shake128: id = "-shake128"
                }
                id.withUTF8Buffer { idBytes in
                    for b in idBytes { buffer[out] = CChar(bitPattern: b); out += 1 }
                }
                buffer[out] = 0
            }
        }
    }

    /// Longest relative object path plus its NUL: 2 + 1 + 38 + 9 + 1.
    static let relativePathCapacity = 64
}
