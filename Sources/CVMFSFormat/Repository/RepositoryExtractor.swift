import Glibc
import CLinux

/// Restores a repository's tree into a local folder: files with their bytes
/// (verified on the way), directories, symlinks (raw targets), hard-link
/// groups, user xattrs, modes and mtimes. Useful to inspect a revision
/// without mounting it, and to diff it against its source.
public struct RepositoryExtractor {
    public let reader: RepositoryReader

    public init(reader: RepositoryReader) {
        self.reader = reader
    }

    public struct Summary: Sendable {
        public var entries = 0
        public var bytes: Int64 = 0
    }

    /// Writes the tree below the repository root into `destination`, which
    /// must not exist or be empty.
    public func extract(to destination: String) throws(RepositoryError) -> Summary {
        if mkdir(destination, 0o755) != 0 && errno != EEXIST {
            throw .local(path: destination, reason: "cannot create: \(String(cString: strerror(errno)))")
        }
        var summary = Summary()
        var directories: [(path: String, entry: DirectoryEntry)] = []
        var linkGroups: [String: String] = [:]
        let root = try reader.lookup("")
        directories.append((destination, root.entry))
        try reader.walk { (item: RepositoryReader.Located) throws(RepositoryError) in
            summary.entries += 1
            let target = destination + item.path
            let entry = item.entry
            if entry.isDirectory {
                guard mkdir(target, 0o700) == 0 else { throw Self.failure(target, "mkdir") }
                directories.append((target, entry))
                try applyXattrs(item, to: target)
            } else if entry.isSymlink {
                guard symlink(entry.symlink, target) == 0 else { throw Self.failure(target, "symlink") }
                try setTimes(target, entry)
            } else if entry.isRegular {
                summary.bytes += try restoreRegularFile(item, at: target, linkGroups: &linkGroups)
            } else {
                guard mknod(target, entry.mode, dev_t(entry.size)) == 0 else { throw Self.failure(target, "mknod") }
                try setTimes(target, entry)
            }
        }
        // Modes and times of directories last: creating children changes them.
        for (path, entry) in directories.reversed() {
            chmod(path, entry.mode & 0o7777)
            try setTimes(path, entry)
        }
        return summary
    }

    /// Writes a regular file, or links it to the first file of its hard-link group already
    /// written; returns the bytes written.
    private func restoreRegularFile(_ item: RepositoryReader.Located, at target: String,
                                    linkGroups: inout [String: String]) throws(RepositoryError) -> Int64 {
        let entry = item.entry
        // Hard links share a group id within one catalog (docs/format/catalogs.md §5).
        let groupKey = entry.hardlinkGroup != 0 ? "\(item.catalog.label)/\(entry.hardlinkGroup)" : nil
        if let groupKey, let first = linkGroups[groupKey] {
            guard link(first, target) == 0 else { throw Self.failure(target, "link") }
            return 0
        }
        let fd = open(target, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw Self.failure(target, "create") }
        defer { close(fd) }
        let written = try writeContent(of: item, to: fd, path: target)
        fchmod(fd, entry.mode & 0o7777)
        try applyXattrs(item, to: target)
        try setTimes(target, entry)
        if let groupKey { linkGroups[groupKey] = target }
        return written
    }

    /// Writes the file's bytes, verified while they are read, to `fd`; returns how many.
    private func writeContent(of item: RepositoryReader.Located, to fd: Int32, path: String) throws(RepositoryError) -> Int64 {
        let entry = item.entry
        var written: Int64 = 0
        try reader.readFile(item) { (bytes: UnsafeRawBufferPointer) throws(ObjectError) in
            var offset = 0
            while offset < bytes.count {
                let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw .sinkFailed(object: entry.contentHash ?? ContentHasher.hash([UInt8](), algorithm: .sha1), reason: "writing \(path): \(String(cString: strerror(errno)))")
                }
                offset += n
            }
            written += Int64(bytes.count)
        }
        return written
    }

    private func applyXattrs(_ item: RepositoryReader.Located, to path: String) throws(RepositoryError) {
        guard item.entry.hasXattrs else { return }
        let list: XattrList?
        do { list = try item.catalog.xattrs(of: item.entry.pathHash) } catch { throw .catalog(error) }
        for (key, value) in list?.entries ?? [] {
            let keyText = String(decoding: key, as: UTF8.self)
            let rc = value.withUnsafeBytes { lsetxattr(path, keyText, $0.baseAddress, $0.count, 0) }
            guard rc == 0 else { throw Self.failure(path, "setxattr \(keyText)") }
        }
    }

    private func setTimes(_ path: String, _ entry: DirectoryEntry) throws(RepositoryError) {
        let nanos = Int(entry.mtimeNanoseconds ?? 0)
        var times = [timespec(tv_sec: Int(entry.mtime), tv_nsec: nanos), timespec(tv_sec: Int(entry.mtime), tv_nsec: nanos)]
        guard utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW) == 0 else { throw Self.failure(path, "utimensat") }
    }

    private static func failure(_ path: String, _ operation: String) -> RepositoryError {
        .local(path: path, reason: "\(operation) failed: \(String(cString: strerror(errno)))")
    }
}
