#if canImport(Glibc)
import Glibc
#endif

/// How large the kernel's read requests for file contents get.
///
/// The kernel reads a FUSE file ahead in requests of at most `max_pages`
/// (derived from the `max_write` the file system announces at INIT), inside
/// the mount's read-ahead window, which starts at 128 KiB: one request in
/// flight per window, each a round trip. A larger window lets the kernel
/// send several larger requests at once, and they are served in parallel
/// (a read from the page cache ran at 1,550 MB/s with 128 KiB requests and
/// 2,000 MB/s with 512 KiB ones in a 1 MiB window; integration/bench).
enum KernelReadAhead {
    /// The request size to announce: libfuse splices a read reply through a
    /// pipe that must hold the data plus a header and three pages, and an
    /// unprivileged pipe grows only to `/proc/sys/fs/pipe-max-size` (1 MiB by
    /// default); a reply that does not fit is copied through user space at
    /// half the speed. So: the largest power of two up to half that limit,
    /// between 128 KiB and 1 MiB.
    static func requestSize(pipeLimit: Int? = readPipeLimit()) -> UInt32 {
        var size = 1 << 20
        while size > 128 << 10 && size > (pipeLimit ?? 1 << 20) / 2 { size >>= 1 }
        return UInt32(size)
    }

    private static func readPipeLimit() -> Int? {
        let fd = open("/proc/sys/fs/pipe-max-size", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var text = [CChar](repeating: 0, count: 32)
        guard read(fd, &text, text.count - 1) > 0 else { return nil }
        let value = atoi(text)
        return value > 0 ? Int(value) : nil
    }

    /// Sets the read-ahead window of the FUSE mount at `mountPoint`
    /// (`/sys/class/bdi/<major>:<minor>/read_ahead_kb`). Must run after the
    /// INIT reply, which lowers the window to what the file system accepted.
    /// The device is looked up in /proc/self/mountinfo, not with stat(),
    /// which would send a request to this very mount. Returns why it did not
    /// happen (not root, no sysfs), or nil.
    static func setWindow(kilobytes: Int, mountPoint: String) -> String? {
        guard let device = mountDevice(of: mountPoint) else { return "\(mountPoint) is not in /proc/self/mountinfo" }
        let path = "/sys/class/bdi/\(device)/read_ahead_kb"
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return "\(path): \(String(cString: strerror(errno)))" }
        defer { close(fd) }
        let text = "\(kilobytes)\n"
        guard write(fd, text, text.utf8.count) == text.utf8.count else { return "\(path): \(String(cString: strerror(errno)))" }
        return nil
    }

    /// The `major:minor` of the last mount at `mountPoint` (mountinfo's
    /// third field; the mount point is the fifth).
    private static func mountDevice(of mountPoint: String) -> String? {
        guard let file = fopen("/proc/self/mountinfo", "r") else { return nil }
        defer { fclose(file) }
        let escaped = escapedForMountinfo(mountPoint)
        var found: String?
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0, let line {
            let fields = UnsafeRawBufferPointer(start: line, count: strlen(line)).split(separator: 0x20, maxSplits: 5)
            if fields.count > 4, fields[4].elementsEqual(escaped) { found = String(decoding: fields[2], as: UTF8.self) }
        }
        return found
    }
}

/// The kernel writes space, tab, newline and backslash in mountinfo paths as octal escapes.
private func escapedForMountinfo(_ path: String) -> [UInt8] {
    var result: [UInt8] = []
    for byte in path.utf8 {
        if byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x5C {
            result.append(0x5C)
            result.append(contentsOf: [byte >> 6, (byte >> 3) & 7, byte & 7].map { 0x30 + $0 })
        } else {
            result.append(byte)
        }
    }
    return result
}
