import Glibc
import CLinux

/// A repository mounted by this client, seen from outside: its mount point,
/// whether the kernel lists it as a `cvmfs2` file system, and its magic xattrs.
struct MountedRepository {
    let fqrn: String
    let mountpoint: String

    /// True when /proc/mounts lists `mountpoint` with file-system name
    /// `cvmfs2`, the name tools recognise a CernVM-FS mount by. Looking at
    /// the directory first lets autofs mount it.
    var isMounted: Bool {
        var st = stat()
        _ = stat(mountpoint, &st)
        guard let file = fopen("/proc/mounts", "r") else { return false }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0 {
            let fields = String(cString: line!).split(separator: " ")
            if fields.count > 2, fields[1] == Substring(mountpoint), fields[0] == "cvmfs2" { return true }
        }
        return false
    }

    /// A magic attribute of the mount root (`user.<name>`), or nil.
    func attribute(_ name: String) -> String? {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let n = buffer.withUnsafeMutableBytes { getxattr(mountpoint, "user." + name, $0.baseAddress, $0.count) }
        guard n >= 0 else { return nil }
        return String(decoding: buffer[0..<n], as: UTF8.self)
    }
}
