import CVMFSFormat

/// Splits a scanned tree into catalogs and produces each catalog's rows.
///
/// A directory other than the root starts a nested catalog when it holds a
/// regular file named `.cvmfscatalog` (docs/format/catalogs.md §12).
struct CatalogLayout {
    let tree: SourceTree
    let contents: [Int: FileContent]
    private(set) var isCatalogRoot: [Bool]
    private(set) var regularFileCount = 0
    private(set) var regularBytes: Int64 = 0

    private static let marker = Array(".cvmfscatalog".utf8)

    init(tree: SourceTree, contents: [Int: FileContent]) {
        self.tree = tree
        self.contents = contents
        isCatalogRoot = Array(repeating: false, count: tree.entries.count)
        isCatalogRoot[SourceTree.rootIndex] = true
        for (index, entry) in tree.entries.enumerated() {
            if entry.kind == .regular {
                regularFileCount += 1
                regularBytes += entry.size
            }
            guard entry.kind == .directory, index != SourceTree.rootIndex else { continue }
            isCatalogRoot[index] = entry.children.contains { child in
                tree.entries[child].kind == .regular && tree.entries[child].name == Self.marker
            }
        }
    }

    /// The rows of the catalog rooted at `rootIndex`, each directory's
    /// children together and in name order, and the roots of its direct
    /// nested catalogs.
    func rows(ofCatalogAt rootIndex: Int) -> (rows: [CatalogRow], nestedRoots: [Int]) {
        let root = tree.entries[rootIndex]
        var rows = [CatalogRow]()
        var nestedRoots = [Int]()
        var nextGroup: UInt32 = 1
        rows.append(CatalogRow(
            repositoryPath: root.repositoryPath,
            parentPath: rootIndex == SourceTree.rootIndex ? nil : Self.parent(of: root.repositoryPath),
            entry: root, linkCount: directoryLinkCount(root), hardlinkGroup: 0, content: nil,
            isNestedRoot: rootIndex != SourceTree.rootIndex))
        var queue = [rootIndex]
        var head = 0
        while head < queue.count {
            let directory = tree.entries[queue[head]]
            head += 1
            let groups = hardlinkGroups(in: directory, next: &nextGroup)
            for child in directory.children {
                let entry = tree.entries[child]
                var row = CatalogRow(
                    repositoryPath: entry.repositoryPath, parentPath: directory.repositoryPath, entry: entry,
                    linkCount: 1, hardlinkGroup: 0, content: contents[child])
                switch entry.kind {
                case .directory:
                    row.linkCount = directoryLinkCount(entry)
                    if isCatalogRoot[child] {
                        row.isNestedMountpoint = true
                        nestedRoots.append(child)
                    } else {
                        queue.append(child)
                    }
                case .regular:
                    if let group = groups[InodeKey(device: entry.device, inode: entry.inode)] {
                        row.hardlinkGroup = group.id
                        row.linkCount = group.members
                    }
                case .symlink, .special:
                    break
                }
                rows.append(row)
            }
        }
        return (rows, nestedRoots)
    }

    /// Hard links survive only inside one directory, as upstream keeps them:
    /// files of a directory that share an inode form a group.
    private func hardlinkGroups(in directory: SourceEntry, next: inout UInt32) -> [InodeKey: (id: UInt32, members: UInt32)] {
        var members = [InodeKey: UInt32]()
        for child in directory.children {
            let entry = tree.entries[child]
            guard entry.kind == .regular, entry.linkCountOnDisk > 1 else { continue }
            members[InodeKey(device: entry.device, inode: entry.inode), default: 0] += 1
        }
        var groups = [InodeKey: (id: UInt32, members: UInt32)]()
        for child in directory.children {
            let entry = tree.entries[child]
            let key = InodeKey(device: entry.device, inode: entry.inode)
            guard entry.kind == .regular, let count = members[key], count > 1, groups[key] == nil else { continue }
            groups[key] = (next, count)
            next += 1
        }
        return groups
    }

    /// 2 plus the number of subdirectories, as a POSIX directory's link count.
    private func directoryLinkCount(_ directory: SourceEntry) -> UInt32 {
        2 + UInt32(directory.children.filter { tree.entries[$0].kind == .directory }.count)
    }

    static func parent(of path: String) -> String {
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return "" }
        return String(path[..<slash])
    }
}
