import Glibc
import CVMFSFormat
import CLinux

/// Unpacks layer tarballs into a root directory, the way `umoci unpack` does.
///
/// Every path is resolved below the root with `openat(O_NOFOLLOW)` one component at a time:
/// `..` and absolute entry names are refused, symbolic links met in parent directories are
/// resolved inside the root (chroot semantics, as Docker's `FollowSymlinkInScope`) and refused
/// when they lead above it, and the last component is never followed. Whiteout entries are
/// handled as `WhiteoutHandling` says: carried out (`.wh.<name>` deletes `<name>` from the
/// layers below, `.wh..wh..opq` empties its directory of everything not added by the same
/// layer), turned into overlayfs whiteouts (the `.layers/*/layerfs` copies), or kept as files.
public final class LayerApplier {
    public struct Statistics: Sendable {
        public var entries = 0
        public var bytes: Int64 = 0
    }

    let rootPath: String
    private let rootFd: Int32
    let whiteouts: WhiteoutHandling
    // State of the layer being applied.
    private var addedThisLayer = Set<String>()
    private var savedDirectoryTimes: [String: timespec] = [:]
    var headerDirectoryTimes: [String: timespec] = [:]
    private(set) var layerName = ""

    public init(root: String, whiteouts: WhiteoutHandling) throws(ImageError) {
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
        let reader = TarReader(source: try LayerDecompression.tarStream(try FileStream(path: path), layer: name), name: name)
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
        switch whiteouts {
        case .apply where name == ".wh..wh..opq":
            try applyOpaqueWhiteout(in: parentComponents, entry: entry)
            return
        case .apply:
            if let target = Self.whiteoutTarget(name) {
                try applyWhiteout(of: target, in: parentComponents, entry: entry)
                return
            }
        case .overlay where name == ".wh..wh..opq":
            try markOpaque(parentComponents, entry: entry)
            return
        case .overlay:
            if let target = Self.whiteoutTarget(name) {
                try writeOverlayWhiteout(of: target, in: parentComponents, entry: entry)
                return
            }
        case .keep:
            break
        }
        guard let parent = try resolveDirectory(parentComponents, create: true, entry: entry) else { return }
        defer { close(parent.fd) }
        let path = join(parent.path, name)
        addedThisLayer.insert(path)
        try clearWay(for: entry, named: name, in: parent, path: path)
        try create(entry, named: name, in: parent.fd, path: path, reader: reader, stats: &stats)
    }

    /// Removes what the layers below hold under the entry's name, but keeps a directory
    /// that the entry, a directory too, only updates.
    private func clearWay(for entry: TarEntry, named name: String, in parent: (fd: Int32, path: String),
                          path: String) throws(ImageError) {
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
    }

    // MARK: Whiteouts

    /// `.wh.<name>`: deletes `<name>` from the layers below.
    private func applyWhiteout(of target: String, in parentComponents: [String], entry: TarEntry) throws(ImageError) {
        guard let parent = try resolveDirectory(parentComponents, create: false, entry: entry) else { return }
        defer { close(parent.fd) }
        if exists(parent.fd, target) {
            saveTimes(of: parent.path)
            try removeTree(parent.fd, target, path: join(parent.path, target))
        }
    }

    private func applyOpaqueWhiteout(in parentComponents: [String], entry: TarEntry) throws(ImageError) {
        guard let parent = try resolveDirectory(parentComponents, create: false, entry: entry) else { return }
        defer { close(parent.fd) }
        try makeOpaque(parent.fd, path: parent.path)
    }

    /// `.wh..wh..opq`: removes what the layers below put into the directory.
    private func makeOpaque(_ fd: Int32, path: String) throws(ImageError) {
        for child in try listDirectory(fd, path: path) where !addedThisLayer.contains(join(path, child)) {
            saveTimes(of: path)
            try removeTree(fd, child, path: join(path, child))
        }
    }

    /// `.wh.<name>` in a layer copy for overlayfs: a character device 0/0 named `<name>`,
    /// unless this layer adds `<name>` itself (a whiteout only hides the layers below; a
    /// later entry of the same name replaces the device through `clearWay`).
    private func writeOverlayWhiteout(of target: String, in parentComponents: [String], entry: TarEntry) throws(ImageError) {
        guard let parent = try resolveDirectory(parentComponents, create: true, entry: entry) else { return }
        defer { close(parent.fd) }
        let path = join(parent.path, target)
        if addedThisLayer.contains(path) { return }
        saveTimes(of: parent.path)
        try removeTree(parent.fd, target, path: path)
        guard mknodat(parent.fd, target, S_IFCHR, gnu_dev_makedev(0, 0)) == 0 else { throw fail(path, "mknod whiteout: \(errnoText())") }
        guard fchownat(parent.fd, target, entry.uid, entry.gid, AT_SYMLINK_NOFOLLOW) == 0 else {
            throw fail(path, "chown \(entry.uid):\(entry.gid): \(errnoText())")
        }
        var times = [Self.time(entry), Self.time(entry)]
        guard utimensat(parent.fd, target, &times, AT_SYMLINK_NOFOLLOW) == 0 else { throw fail(path, "utimensat: \(errnoText())") }
    }

    /// `.wh..wh..opq` in a layer copy for overlayfs: the directory gets the opaque xattrs.
    private func markOpaque(_ components: [String], entry: TarEntry) throws(ImageError) {
        guard let directory = try resolveDirectory(components, create: true, entry: entry) else { return }
        defer { close(directory.fd) }
        for key in Self.opaqueXattrs {
            let status = fsetxattr(directory.fd, key, "y", 1, 0)
            guard status == 0 else { throw fail(directory.path, "setxattr \(key) (an opaque directory for overlayfs; trusted.* needs CAP_SYS_ADMIN): \(errnoText())") }
        }
    }

    /// The xattrs that make a lower directory opaque: the first for an overlay mounted by
    /// root, the second for one mounted with `userxattr`.
    static let opaqueXattrs = ["trusted.overlay.opaque", "user.overlay.opaque"]

    /// `<name>` for a `.wh.<name>` entry.
    static func whiteoutTarget(_ name: String) -> String? {
        guard name.hasPrefix(".wh."), name != ".wh..wh..opq" else { return nil }
        let target = String(name.dropFirst(4))
        return target.isEmpty ? nil : target
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
    func resolveDirectory(_ components: [String], create: Bool, entry: TarEntry) throws(ImageError) -> (fd: Int32, path: String)? {
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

    func join(_ a: String, _ b: String) -> String { a.isEmpty ? b : a + "/" + b }

    func fail(_ path: String, _ reason: String) -> ImageError {
        .io(path: rootPath + "/" + path, reason: reason)
    }

    func exists(_ fd: Int32, _ name: String) -> Bool {
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

    static func time(_ entry: TarEntry) -> timespec {
        timespec(tv_sec: Int(entry.mtime), tv_nsec: Int(entry.mtimeNanoseconds))
    }
}
