import Glibc

/// A `sockaddr_un` for a socket path of any length. `sun_path` holds 107
/// bytes; a longer path (a deep `CVMFS_CACHE_BASE` and a long repository
/// name) is reached through its directory instead: the directory is opened
/// and the address becomes `/proc/self/fd/<n>/<name>`, which the kernel
/// resolves to the same place for `bind` and `connect`.
enum UnixSocketAddress {
    /// Calls `body` with the address of `path` (valid only during the call).
    /// Throws the reason when even the file name alone does not fit.
    static func with<R>(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> R) throws(SocketPathError) -> R {
        var directoryFD: Int32 = -1
        defer { if directoryFD >= 0 { close(directoryFD) } }
        var usable = Array(path.utf8)
        var address = sockaddr_un()
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        if usable.count >= capacity {
            let slash = usable.lastIndex(of: UInt8(ascii: "/")) ?? -1
            let directory = slash > 0 ? String(decoding: usable[..<slash], as: UTF8.self) : "."
            directoryFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard directoryFD >= 0 else { throw SocketPathError(reason: "cannot open \(directory): \(String(cString: strerror(errno)))") }
            usable = Array("/proc/self/fd/\(directoryFD)/".utf8) + usable[(slash + 1)...]
            guard usable.count < capacity else { throw SocketPathError(reason: "socket file name too long: \(path)") }
        }
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: usable)
            raw[usable.count] = 0
        }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }
}

struct SocketPathError: Error, CustomStringConvertible {
    var reason: String
    var description: String { reason }
}
