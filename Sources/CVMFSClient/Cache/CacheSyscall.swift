#if canImport(Glibc)
import Glibc
import CVMFSFormat
#endif

/// The only place in the cache that calls libc file APIs.
///
/// Each wrapper reads `errno` immediately after the call, in a non-inlined
/// function so that no retain/release can run in between, and retries `EINTR`
/// (the pattern of swift-nio's `SystemCallHelpers.swift`).
public enum CacheSyscall {
    /// A raw errno value; an open set, so any code passes through.
    public struct Errno: Error, RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: CInt
        public init(rawValue: CInt) { self.rawValue = rawValue }
        /// No such file or directory (`ENOENT`).
        public static let noSuchFile = Errno(rawValue: ENOENT)
        /// File exists (`EEXIST`).
        public static let exists = Errno(rawValue: EEXIST)
        public var description: String { "errno \(rawValue) (\(String(cString: strerror(rawValue))))" }
    }

    @inline(never)
    @usableFromInline
    static func retrying(_ body: () -> CInt) -> (CInt, CInt) {
        while true {
            let rc = body()
            if rc >= 0 { return (rc, 0) }
            let code = Glibc.errno
            if code != EINTR { return (rc, code) }
        }
    }

    @inline(never)
    @usableFromInline
    static func retryingSize(_ body: () -> Int) -> (Int, CInt) {
        while true {
            let rc = body()
            if rc >= 0 { return (rc, 0) }
            let code = Glibc.errno
            if code != EINTR { return (rc, code) }
        }
    }

    /// `openat(2)` with a NUL-terminated relative path.
    @inlinable
    static func openat(_ dir: CInt, _ path: UnsafePointer<CChar>, _ flags: CInt, _ mode: mode_t = 0) throws(Errno) -> CInt {
        let (fd, code) = retrying { Glibc.openat(dir, path, flags | O_CLOEXEC, mode) }
        if fd < 0 { throw Errno(rawValue: code) }
        return fd
    }

    static func open(_ path: String, _ flags: CInt, _ mode: mode_t = 0) throws(Errno) -> CInt {
        let (fd, code) = retrying { Glibc.open(path, flags | O_CLOEXEC, mode) }
        if fd < 0 { throw Errno(rawValue: code) }
        return fd
    }

    /// `close(2)`; errors are ignored on purpose (see `FileDescriptor.close`).
    static func close(_ fd: CInt) {
        _ = Glibc.close(fd)
    }

    static func mkdir(_ path: String, _ mode: mode_t) throws(Errno) {
        let (rc, code) = retrying { Glibc.mkdir(path, mode) }
        if rc < 0 && code != EEXIST { throw Errno(rawValue: code) }
    }

    /// `mkstemp(3)` on `template` (which must end in `XXXXXX`); returns the fd and the final name.
    static func mkstemp(_ template: String) throws(Errno) -> (CInt, String) {
        var bytes = Array(template.utf8CString)
        let (fd, code) = retrying { bytes.withUnsafeMutableBufferPointer { Glibc.mkstemp($0.baseAddress!) } }
        if fd < 0 { throw Errno(rawValue: code) }
        let name = bytes.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return (fd, name)
    }

    static func rename(_ from: String, _ to: String) throws(Errno) {
        let (rc, code) = retrying { Glibc.rename(from, to) }
        if rc < 0 { throw Errno(rawValue: code) }
    }

    static func unlink(_ path: String) throws(Errno) {
        let (rc, code) = retrying { Glibc.unlink(path) }
        if rc < 0 { throw Errno(rawValue: code) }
    }

    static func ftruncate(_ fd: CInt, _ size: Int64) throws(Errno) {
        let (rc, code) = retrying { Glibc.ftruncate(fd, off_t(size)) }
        if rc < 0 { throw Errno(rawValue: code) }
    }

    /// Writes all of `bytes` at `offset`, looping over partial writes.
    static func pwriteAll(_ fd: CInt, _ bytes: UnsafeRawBufferPointer, _ offset: Int64) throws(Errno) {
        var done = 0
        while done < bytes.count {
            let (n, code) = retryingSize { Glibc.pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done)) }
            if n < 0 { throw Errno(rawValue: code) }
            done += n
        }
    }

    @inlinable
    static func pread(_ fd: CInt, _ buffer: UnsafeMutableRawBufferPointer, _ offset: Int64) throws(Errno) -> Int {
        let (n, code) = retryingSize { Glibc.pread(fd, buffer.baseAddress, buffer.count, off_t(offset)) }
        if n < 0 { throw Errno(rawValue: code) }
        return n
    }

    /// `stat(2)`: (is directory, size, modification time in seconds).
    static func stat(_ path: String) throws(Errno) -> (isDirectory: Bool, size: Int64, atime: Int64) {
        var st = Glibc.stat()
        let (rc, code) = retrying { Glibc.fstatat(AT_FDCWD, path, &st, 0) }
        if rc < 0 { throw Errno(rawValue: code) }
        return ((st.st_mode & S_IFMT) == S_IFDIR, Int64(st.st_size), Int64(st.st_atim.tv_sec))
    }

    /// `flock(2)`. With `LOCK_NB`, a lock held elsewhere throws `EWOULDBLOCK`.
    /// flock locks belong to the open file description and vanish when its
    /// last descriptor closes, so a killed process never leaves one behind.
    static func flock(_ fd: CInt, _ operation: CInt) throws(Errno) {
        let call = flockFunction
        let (rc, code) = retrying { call(fd, operation) }
        if rc < 0 { throw Errno(rawValue: code) }
    }

    /// libc's `flock` function. Swift resolves `Glibc.flock(fd, op)` to the
    /// initializer of `struct flock` (the fcntl lock record), so the function
    /// is looked up by name once; glibc always exports it.
    private static let flockFunction: @convention(c) (CInt, CInt) -> CInt = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "flock") else {
            fatalError("libc does not export flock")
        }
        return unsafeBitCast(symbol, to: (@convention(c) (CInt, CInt) -> CInt).self)
    }()

    /// `fstat(2)`: (size, link count). A link count of 0 means the file was unlinked.
    static func fstat(_ fd: CInt) throws(Errno) -> (size: Int64, links: Int) {
        var st = Glibc.stat()
        let (rc, code) = retrying { Glibc.fstat(fd, &st) }
        if rc < 0 { throw Errno(rawValue: code) }
        return (Int64(st.st_size), Int(st.st_nlink))
    }

    /// True unless `kill(pid, 0)` says the process does not exist (`ESRCH`).
    /// A process of another user (`EPERM`) counts as alive.
    static func processExists(_ pid: Int64) -> Bool {
        guard pid > 0, pid <= Int64(Int32.max) else { return false }
        let (rc, code) = retrying { Glibc.kill(pid_t(pid), 0) }
        return rc == 0 || code != ESRCH
    }

    /// Names in a directory, without `.` and `..`.
    static func listDirectory(_ path: String) throws(Errno) -> [String] {
        do { return try DirectoryListing.strings(at: path) } catch { throw Errno(rawValue: error.code) }
    }
}
