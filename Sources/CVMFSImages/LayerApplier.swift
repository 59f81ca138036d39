import Glibc
import CVMFSFormat
import CLinux

/// Unpacks layer tarballs into a root directory, the way `umoci unpack` does.
///
/// Every path is resolved below the root with `openat(O_NOFOLLOW)` one component at a time:
/// `..` and absolute entry names are refused, symbolic links met in parent directories are
/// resolved inside the root (chroot semantics, as Docker's `FollowSymlinkInScope`) and refused
/// when they lead above it, and the last component is never followed. With `whiteouts` on,
/// `.wh.<name>` deletes `<name>` from the layers below and `.wh..wh..opq` empties its
/// directory of everything not added by the same layer; with it off (the verbatim
/// `.layers/*/layerfs` copy) they are ordinary empty files.
public final class LayerApplier {
    public struct Statistics: Sendable {
        public var entries = 0
        public var bytes: Int64 = 0
    }

    let rootPath: String
    private let rootFd: Int32
    private let whiteouts: Bool
    // State of the layer being applied.
    private var addedThisLayer = Set<String>()
    private var savedDirectoryTimes: [String: timespec] = [:]
    private var headerDirectoryTimes: [String: timespec] = [:]
    private var layerName = ""

    public init(root: String, whiteouts: Bool) throws(ImageError) {
        rootPath = root
        self.whiteouts = whiteouts
        if mkdir(root, 0o755) != 0 && errno != EEXIST { throw .io(path: root, reason: "mkdir: \(errnoText())") }
        rootFd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard rootFd >= 0 else { throw .io(path: root, reason: "cannot open: \(errnoText())") }
    }

    deinit { close(rootFd) }

    /// Applies one layer (a tar stream) on top of what the root holds.
    func apply(_ reader: TarReader, name: String, progress: ((Int64) -> Void)? = nil) throws(ImageError) -> Statistics {
        addedThisLayer = []
        savedDirectoryTimes = [:]
        headerDirectoryTimes = [:]
        layerName = name
        var stats = Statistics()
        while let entry = try reader.next() {
            stats.entries += 1
            try applyEntry(entry, reader: reader, stats: &stats)
            progress?(stats.bytes)
        }
        try restoreDirectoryTimes()
        return stats
    }

    /// Applies a whole layer file (gzip or plain tar).
    public func apply(layerFile path: String, name: String) throws(ImageError) -> Statistics {
        let reader = TarReader(source: try FileStream.openLayer(path: path), name: name)
        return try apply(reader, name: name)
    }

    // MARK: Entries

    private func applyEntry(_ entry: TarEntry, reader: TarReader, stats: inout Statistics) throws(ImageError) {
        let components = try Self.components(of: entry.path, layer: layerName)
        guard let name = components.last else {
            // The root itself ("./"): take its metadata.
            if entry.kind == .directory {
                try setOwnerAndMode(rootFd, "", entry: entry, isSymlink: false)
                headerDirectoryTimes[""] = Self.time(entry)
            }
            return
        }
        let parentComponents = Array(components.dropLast())
        let fileName = whiteouts ? Self.whiteoutTarget(name) : nil
        if whiteouts && name == ".wh..wh..opq" {
            guard let parent = try resolveDirectory(parentComponents, create: false, entry: entry) else { return }
            defer { close(parent.fd) }
            try makeOpaque(parent.fd, path: parent.path)
            return
        }
        if let target = fileName {
            guard let parent = try resolveDirectory(parentComponents, create: false, entry: entry) else { return }
            defer { close(parent.fd) }
            if exists(parent.fd, target) {
                saveTimes(of: parent.path)
                try removeTree(parent.fd, target, path: join(parent.path, target))
            }
            return
        }
        guard let parent = try resolveDirectory(parentComponents, create: true, entry: entry) else { return }
        defer { close(parent.fd) }
        let path = join(parent.path, name)
        addedThisLayer.insert(path)

        var existing = stat()
        if fstatat(parent.fd, name, &existing, AT_SYMLINK_NOFOLLOW) == 0 {
            let existingIsDirectory = (existing.st_mode & S_IFMT) == S_IFDIR
            if !(existingIsDirectory && entry.kind == .directory) {
                saveTimes(of: parent.path)
                try removeTree(parent.fd, name, path: path)
            }
        } else {
            saveTimes(of: parent.path)
        }

        switch entry.kind {
        case .directory:
            if mkdirat(parent.fd, name, 0o700) != 0 && errno != EEXIST {
                throw fail(path, "mkdir: \(errnoText())")
            }
            try setOwnerAndMode(parent.fd, name, entry: entry, isSymlink: false)
            try setXattrs(parent.fd, name, entry: entry)
            headerDirectoryTimes[path] = Self.time(entry)
        case .regular:
            let fd = openat(parent.fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
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
            try setOwnerAndMode(parent.fd, name, entry: entry, isSymlink: false)
            try setXattrs(parent.fd, name, entry: entry)
            try setTimes(parent.fd, name, Self.time(entry), path: path)
        case .symlink:
            guard symlinkat(entry.linkTarget, parent.fd, name) == 0 else { throw fail(path, "symlink: \(errnoText())") }
            try setOwnerAndMode(parent.fd, name, entry: entry, isSymlink: true)
            try setTimes(parent.fd, name, Self.time(entry), path: path)
        case .hardlink:
            if !whiteouts, !(try hardlinkTargetExists(entry)) {
                // A verbatim layer copy may link to a file of a lower layer, which it does
                // not hold: keep the name as an empty file with the entry's metadata.
                let fd = openat(parent.fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
                guard fd >= 0 else { throw fail(path, "create: \(errnoText())") }
                close(fd)
                try setOwnerAndMode(parent.fd, name, entry: entry, isSymlink: false)
                try setTimes(parent.fd, name, Self.time(entry), path: path)
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
            guard linkat(targetParent.fd, targetName, parent.fd, name, 0) == 0 else {
                throw fail(path, "link to \(entry.linkTarget): \(errnoText())")
            }
        case .characterDevice, .blockDevice, .fifo:
            let type: mode_t = entry.kind == .fifo ? S_IFIFO : (entry.kind == .characterDevice ? S_IFCHR : S_IFBLK)
            let device = gnu_dev_makedev(entry.deviceMajor, entry.deviceMinor)
            guard mknodat(parent.fd, name, type | 0o600, device) == 0 else { throw fail(path, "mknod: \(errnoText())") }
            try setOwnerAndMode(parent.fd, name, entry: entry, isSymlink: false)
            try setXattrs(parent.fd, name, entry: entry)
            try setTimes(parent.fd, name, Self.time(entry), path: path)
        }
    }

    private func hardlinkTargetExists(_ entry: TarEntry) throws(ImageError) -> Bool {
        let components = try Self.components(of: entry.linkTarget, layer: layerName)
        guard let last = components.last,
              let parent = try resolveDirectory(Array(components.dropLast()), create: false, entry: entry) else { return false }
        defer { close(parent.fd) }
        return exists(parent.fd, last)
    }

    /// `.wh..wh..opq`: removes what the layers below put into the directory.
    private func makeOpaque(_ fd: Int32, path: String) throws(ImageError) {
        for child in try listDirectory(fd, path: path) where !addedThisLayer.contains(join(path, child)) {
            saveTimes(of: path)
            try removeTree(fd, child, path: join(path, child))
        }
    }

    // MARK: Path resolution

    /// Splits an entry name into components; refuses absolute names and `..`.
    static func components(of path: String, layer: String) throws(ImageError) -> [String] {
        if path.hasPrefix("/") {
            throw .unsafePath("\(layer): '\(path)' is an absolute path")
        }
        var out: [String] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." { throw .unsafePath("\(layer): '\(path)' leaves the root through '..'") }
            out.append(String(part))
        }
        return out
    }

    /// Opens the directory at `components` below the root. Missing directories are created
    /// (mode 0755) when `create` is set, otherwise nil is returned. Symbolic links on the way
    /// are resolved inside the root; one that leads above it is an error.
    private func resolveDirectory(_ components: [String], create: Bool, entry: TarEntry) throws(ImageError) -> (fd: Int32, path: String)? {
        var stack: [(fd: Int32, name: String)] = []
        func currentFd() -> Int32 { stack.last?.fd ?? rootFd }
        func closeAll() { for item in stack { close(item.fd) } }
        var pending = Array(components.reversed())
        var hops = 0
        while let component = pending.popLast() {
            if component == "." || component.isEmpty { continue }
            if component == ".." {
                guard let top = stack.popLast() else {
                    closeAll()
                    throw .unsafePath("\(layerName): '\(entry.path)' would be written through a symbolic link that leads outside the root")
                }
                close(top.fd)
                continue
            }
            var fd = openat(currentFd(), component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if fd < 0 && errno == ENOENT && create {
                saveTimes(of: stack.map(\.name).joined(separator: "/"))
                if mkdirat(currentFd(), component, 0o755) != 0 && errno != EEXIST {
                    let reason = errnoText()
                    closeAll()
                    throw fail(entry.path, "mkdir parent: \(reason)")
                }
                fd = openat(currentFd(), component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            }
            if fd >= 0 {
                stack.append((fd, component))
                continue
            }
            let code = errno
            if code == ENOENT && !create { closeAll(); return nil }
            var st = stat()
            if (code == ELOOP || code == ENOTDIR), fstatat(currentFd(), component, &st, AT_SYMLINK_NOFOLLOW) == 0,
               (st.st_mode & S_IFMT) == S_IFLNK {
                hops += 1
                guard hops <= 40, let target = readLink(currentFd(), component) else {
                    closeAll()
                    throw .unsafePath("\(layerName): '\(entry.path)': too many symbolic links")
                }
                if target.hasPrefix("/") {
                    closeAll()
                    stack = []
                }
                pending.append(contentsOf: target.split(separator: "/").map(String.init).reversed())
                continue
            }
            closeAll()
            if code == ENOTDIR || code == ELOOP {
                throw .layer("\(layerName): '\(entry.path)': a parent is not a directory")
            }
            throw fail(entry.path, "open parent: \(errnoText(code))")
        }
        let path = stack.map(\.name).joined(separator: "/")
        // Hand out a descriptor the caller owns; close the intermediate ones.
        let result: Int32
        if let last = stack.popLast() { result = last.fd } else { result = dup(rootFd) }
        closeAll()
        return (result, path)
    }

    // MARK: Helpers

    private func join(_ a: String, _ b: String) -> String { a.isEmpty ? b : a + "/" + b }

    private func fail(_ path: String, _ reason: String) -> ImageError {
        .io(path: rootPath + "/" + path, reason: reason)
    }

    private func exists(_ fd: Int32, _ name: String) -> Bool {
        var st = stat()
        return fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0
    }

    private func readLink(_ fd: Int32, _ name: String) -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBufferPointer { readlinkat(fd, name, UnsafeMutableRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), 4096) }
        guard n >= 0 else { return nil }
        return String(decoding: buffer[0..<n], as: UTF8.self)
    }

    private func listDirectory(_ fd: Int32, path: String) throws(ImageError) -> [String] {
        do { return try DirectoryListing.names(inDirectory: fd).map { String(decoding: $0, as: UTF8.self) } } catch {
            throw fail(path, "opendir: \(error)")
        }
    }

    /// Removes a file or a whole directory tree, never following symbolic links.
    private func removeTree(_ fd: Int32, _ name: String, path: String) throws(ImageError) {
        var st = stat()
        guard fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { return }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            let child = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard child >= 0 else { throw fail(path, "open: \(errnoText())") }
            defer { close(child) }
            for entry in try listDirectory(child, path: path) {
                try removeTree(child, entry, path: path + "/" + entry)
            }
            guard unlinkat(fd, name, AT_REMOVEDIR) == 0 else { throw fail(path, "rmdir: \(errnoText())") }
        } else {
            guard unlinkat(fd, name, 0) == 0 else { throw fail(path, "unlink: \(errnoText())") }
        }
        savedDirectoryTimes[path] = nil
        headerDirectoryTimes[path] = nil
    }

    private func setOwnerAndMode(_ fd: Int32, _ name: String, entry: TarEntry, isSymlink: Bool) throws(ImageError) {
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

    /// Remembers a directory's times before this layer first changes its content,
    /// so that it keeps them (umoci restores parents' mtimes the same way).
    private func saveTimes(of path: String) {
        guard savedDirectoryTimes[path] == nil, headerDirectoryTimes[path] == nil else { return }
        var st = stat()
        let ok = path.isEmpty ? fstat(rootFd, &st) == 0 : fstatat(rootFd, path, &st, AT_SYMLINK_NOFOLLOW) == 0
        if ok { savedDirectoryTimes[path] = st.st_mtim }
    }

    /// At the end of a layer: directories get the time from their header, or
    /// back the time they had before the layer touched them.
    private func restoreDirectoryTimes() throws(ImageError) {
        var all = savedDirectoryTimes
        all.merge(headerDirectoryTimes) { $1 }
        for (path, time) in all {
            var times = [time, time]
            // `path` names real directories (resolved above), so no link is followed.
            if path.isEmpty {
                guard futimens(rootFd, &times) == 0 else { throw fail(path, "futimens: \(errnoText())") }
            } else if utimensat(rootFd, path, &times, AT_SYMLINK_NOFOLLOW) != 0 && errno != ENOENT {
                throw fail(path, "utimensat: \(errnoText())")
            }
        }
    }

    static func whiteoutTarget(_ name: String) -> String? {
        guard name.hasPrefix(".wh."), name != ".wh..wh..opq" else { return nil }
        let target = String(name.dropFirst(4))
        return target.isEmpty ? nil : target
    }

    static func time(_ entry: TarEntry) -> timespec {
        timespec(tv_sec: Int(entry.mtime), tv_nsec: Int(entry.mtimeNanoseconds))
    }
}
