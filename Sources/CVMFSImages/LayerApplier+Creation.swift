import Glibc
import CVMFSFormat
import CLinux

/// Creating the object a tar entry describes, of each kind, with the entry's owner, mode,
/// extended attributes and time. `clearWay` has run: only a directory that a directory
/// entry updates may still exist under the name.
extension LayerApplier {
    func create(_ entry: TarEntry, named name: String, in parentFd: Int32, path: String,
                reader: TarReader, stats: inout Statistics) throws(ImageError) {
        switch entry.kind {
        case .directory:
            try createDirectory(entry, named: name, in: parentFd, path: path)
        case .regular:
            try createRegularFile(entry, named: name, in: parentFd, path: path, reader: reader, stats: &stats)
        case .symlink:
            guard symlinkat(entry.linkTarget, parentFd, name) == 0 else { throw fail(path, "symlink: \(errnoText())") }
            try setOwnerAndMode(parentFd, name, entry: entry, isSymlink: true)
            try setTimes(parentFd, name, Self.time(entry), path: path)
        case .hardlink:
            try createHardlink(entry, named: name, in: parentFd, path: path)
        case .characterDevice, .blockDevice, .fifo:
            try createSpecialFile(entry, named: name, in: parentFd, path: path)
        }
    }

    private func createDirectory(_ entry: TarEntry, named name: String, in parentFd: Int32, path: String) throws(ImageError) {
        if mkdirat(parentFd, name, 0o700) != 0 && errno != EEXIST {
            throw fail(path, "mkdir: \(errnoText())")
        }
        try setOwnerAndMode(parentFd, name, entry: entry, isSymlink: false)
        try setXattrs(parentFd, name, entry: entry)
        headerDirectoryTimes[path] = Self.time(entry)
    }

    private func createRegularFile(_ entry: TarEntry, named name: String, in parentFd: Int32, path: String,
                                   reader: TarReader, stats: inout Statistics) throws(ImageError) {
        let fd = openat(parentFd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw fail(path, "create: \(errnoText())") }
        do {
            try reader.readData { (chunk: UnsafeRawBufferPointer) throws(ImageError) in
                var offset = 0
                while offset < chunk.count {
                    let n = write(fd, chunk.baseAddress! + offset, chunk.count - offset)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw fail(path, "write: \(errnoText())")
                    }
                    offset += n
                }
                stats.bytes += Int64(chunk.count)
            }
        } catch {
            close(fd)
            throw error
        }
        close(fd)
        try setOwnerAndMode(parentFd, name, entry: entry, isSymlink: false)
        try setXattrs(parentFd, name, entry: entry)
        try setTimes(parentFd, name, Self.time(entry), path: path)
    }

    private func createHardlink(_ entry: TarEntry, named name: String, in parentFd: Int32, path: String) throws(ImageError) {
        if whiteouts != .apply, !(try hardlinkTargetExists(entry)) {
            // A layer copy may link to a file of a lower layer, which it does
            // not hold: keep the name as an empty file with the entry's metadata.
            let fd = openat(parentFd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw fail(path, "create: \(errnoText())") }
            close(fd)
            try setOwnerAndMode(parentFd, name, entry: entry, isSymlink: false)
            try setTimes(parentFd, name, Self.time(entry), path: path)
            return
        }
        let targetComponents = try Self.components(of: entry.linkTarget, layer: layerName)
        guard let targetName = targetComponents.last,
              let targetParent = try resolveDirectory(Array(targetComponents.dropLast()), create: false, entry: entry)
        else { throw .layer("\(layerName): hard link '\(entry.path)' points to missing '\(entry.linkTarget)'") }
        defer { close(targetParent.fd) }
        var st = stat()
        guard fstatat(targetParent.fd, targetName, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
            throw .layer("\(layerName): hard link '\(entry.path)' points to missing '\(entry.linkTarget)'")
        }
        guard (st.st_mode & S_IFMT) != S_IFDIR else {
            throw .layer("\(layerName): hard link '\(entry.path)' points to directory '\(entry.linkTarget)'")
        }
        guard linkat(targetParent.fd, targetName, parentFd, name, 0) == 0 else {
            throw fail(path, "link to \(entry.linkTarget): \(errnoText())")
        }
    }

    private func hardlinkTargetExists(_ entry: TarEntry) throws(ImageError) -> Bool {
        let components = try Self.components(of: entry.linkTarget, layer: layerName)
        guard let last = components.last,
              let parent = try resolveDirectory(Array(components.dropLast()), create: false, entry: entry) else { return false }
        defer { close(parent.fd) }
        return exists(parent.fd, last)
    }

    /// Character and block devices and FIFOs.
    private func createSpecialFile(_ entry: TarEntry, named name: String, in parentFd: Int32, path: String) throws(ImageError) {
        let type: mode_t = entry.kind == .fifo ? S_IFIFO : (entry.kind == .characterDevice ? S_IFCHR : S_IFBLK)
        let device = gnu_dev_makedev(entry.deviceMajor, entry.deviceMinor)
        guard mknodat(parentFd, name, type | 0o600, device) == 0 else { throw fail(path, "mknod: \(errnoText())") }
        try setOwnerAndMode(parentFd, name, entry: entry, isSymlink: false)
        try setXattrs(parentFd, name, entry: entry)
        try setTimes(parentFd, name, Self.time(entry), path: path)
    }

    // MARK: Metadata

    func setOwnerAndMode(_ fd: Int32, _ name: String, entry: TarEntry, isSymlink: Bool) throws(ImageError) {
        let owned = name.isEmpty ? fchown(fd, entry.uid, entry.gid) : fchownat(fd, name, entry.uid, entry.gid, AT_SYMLINK_NOFOLLOW)
        guard owned == 0 else { throw fail(entry.path, "chown \(entry.uid):\(entry.gid): \(errnoText())") }
        if isSymlink { return }
        // After chown, which clears set-id bits. The entry is ours and not a link.
        let mode = mode_t(entry.mode & 0o7777)
        let changed = name.isEmpty ? fchmod(fd, mode) : fchmodat(fd, name, mode, 0)
        guard changed == 0 else { throw fail(entry.path, "chmod: \(errnoText())") }
    }

    private func setXattrs(_ fd: Int32, _ name: String, entry: TarEntry) throws(ImageError) {
        for (key, value) in entry.xattrs where key.hasPrefix("user.") || key == "security.capability" {
            let procPath = "/proc/self/fd/\(fd)/\(name)"
            let status = value.withUnsafeBytes { lsetxattr(procPath, key, $0.baseAddress, $0.count, 0) }
            guard status == 0 else { throw fail(entry.path, "setxattr \(key): \(errnoText())") }
        }
    }

    private func setTimes(_ fd: Int32, _ name: String, _ time: timespec, path: String) throws(ImageError) {
        var times = [time, time]
        guard utimensat(fd, name, &times, AT_SYMLINK_NOFOLLOW) == 0 else { throw fail(path, "utimensat: \(errnoText())") }
    }
}
