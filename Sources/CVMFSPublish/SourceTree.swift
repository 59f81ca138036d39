import Glibc
import CVMFSFormat
import CLinux

/// A source folder read into memory: every entry with its metadata, children
/// sorted by name bytes (the order a catalog lists them in).
public struct SourceTree: Sendable {
    public internal(set) var entries: [SourceEntry]
    public static let rootIndex = 0

    /// Reads the whole tree below `root`. Only `user.*` and the xattrs of
    /// `publishedSystemXattrs` are published.
    public static func scan(_ root: String) throws(PublishError) -> SourceTree {
        var tree = SourceTree(entries: [])
        var st = stat()
        guard lstat(root, &st) == 0 else { throw .source(path: root, reason: "cannot stat: \(errnoText())") }
        guard (st.st_mode & S_IFMT) == S_IFDIR else { throw .source(path: root, reason: "not a directory") }
        tree.entries.append(try makeEntry(name: [], repositoryPath: "", sourcePath: root, st: st))
        var pending = [SourceTree.rootIndex]
        while let index = pending.popLast() {
            let dir = tree.entries[index]
            var names = try listDirectory(dir.sourcePath)
            names.sort { $0.lexicographicallyPrecedes($1) }
            var children = [Int]()
            children.reserveCapacity(names.count)
            for name in names {
                let nameText = String(decoding: name, as: UTF8.self)
                let sourcePath = dir.sourcePath + "/" + nameText
                var cst = stat()
                guard lstat(sourcePath, &cst) == 0 else {
                    throw .source(path: sourcePath, reason: "cannot stat: \(errnoText())")
                }
                let entry = try makeEntry(name: name, repositoryPath: dir.repositoryPath + "/" + nameText, sourcePath: sourcePath, st: cst)
                children.append(tree.entries.count)
                if entry.kind == .directory { pending.append(tree.entries.count) }
                tree.entries.append(entry)
            }
            tree.entries[index].children = children
        }
        return tree
    }

    static func makeEntry(name: [UInt8], repositoryPath: String, sourcePath: String, st: stat) throws(PublishError) -> SourceEntry {
        let format = st.st_mode & S_IFMT
        let kind: SourceEntry.Kind
        switch format {
        case S_IFDIR: kind = .directory
        case S_IFREG: kind = .regular
        case S_IFLNK: kind = .symlink
        default: kind = .special
        }
        var target = [UInt8]()
        if kind == .symlink {
            target = try readLink(sourcePath)
        }
        return SourceEntry(
            name: name, repositoryPath: repositoryPath, sourcePath: sourcePath, kind: kind,
            mode: st.st_mode, uid: st.st_uid, gid: st.st_gid,
            size: kind == .symlink ? Int64(target.count) : Int64(st.st_size),
            mtime: Int64(st.st_mtim.tv_sec), mtimeNanoseconds: Int32(st.st_mtim.tv_nsec),
            rdev: UInt64(st.st_rdev), symlinkTarget: target,
            xattrs: kind == .symlink ? [] : try readXattrs(sourcePath),
            device: UInt64(st.st_dev), inode: UInt64(st.st_ino), linkCountOnDisk: UInt64(st.st_nlink),
            children: [])
    }

    private static func listDirectory(_ path: String) throws(PublishError) -> [[UInt8]] {
        do { return try DirectoryListing.names(at: path) } catch {
            throw .source(path: path, reason: "cannot open directory: \(error)")
        }
    }

    private static func readLink(_ path: String) throws(PublishError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = buffer.withUnsafeMutableBufferPointer { readlink(path, $0.baseAddress!, $0.count) }
        guard n >= 0 else { throw .source(path: path, reason: "cannot read link: \(errnoText())") }
        return Array(buffer[0..<n])
    }

    /// The xattrs outside `user.*` that are published: file capabilities, and the opaque
    /// mark overlayfs reads on a lower directory (container layer copies stacked by podman,
    /// docs/format/container-images.md §5). Others (`security.selinux`, ACLs) describe the
    /// publishing machine, not the content.
    static let publishedSystemXattrs: Set<String> = ["security.capability", "trusted.overlay.opaque"]

    private static func readXattrs(_ path: String) throws(PublishError) -> [(key: [UInt8], value: [UInt8])] {
        let listSize = llistxattr(path, nil, 0)
        guard listSize > 0 else { return [] }
        var list = [CChar](repeating: 0, count: listSize)
        let got = llistxattr(path, &list, listSize)
        guard got > 0 else { return [] }
        var result = [(key: [UInt8], value: [UInt8])]()
        for rawName in list[0..<got].split(separator: 0) {
            let key = rawName.map { UInt8(bitPattern: $0) }
            let keyText = String(decoding: key, as: UTF8.self)
            guard keyText.hasPrefix("user.") || Self.publishedSystemXattrs.contains(keyText) else { continue }
            let valueSize = lgetxattr(path, keyText, nil, 0)
            guard valueSize >= 0 else { throw .source(path: path, reason: "cannot read xattr \(keyText): \(errnoText())") }
            var value = [UInt8](repeating: 0, count: valueSize)
            let n = value.withUnsafeMutableBytes { lgetxattr(path, keyText, $0.baseAddress, valueSize) }
            guard n >= 0 else { throw .source(path: path, reason: "cannot read xattr \(keyText): \(errnoText())") }
            guard key.count <= 255, n <= 255 else {
                throw .source(path: path, reason: "xattr \(keyText) is too long for a catalog (keys and values are limited to 255 bytes)")
            }
            result.append((key, Array(value[0..<n])))
        }
        result.sort { $0.key.lexicographicallyPrecedes($1.key) }
        return result
    }
}
