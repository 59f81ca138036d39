import CVMFSClient
import CVMFSFormat
import Synchronization

/// A small read-only tree for mounting in tests:
///
///     /               ino 1
///     /big/           ino 2, 2000 regular files f0000…f1999 (ino 1000…2999)
///     /file.txt       ino 3, `InMemoryCore.fileBytes`, xattrs user.test and user.other
///     /link           ino 4, symlink to "file.txt"
///     /broken         ino 5, opens fine, every read fails with .io
///
/// It counts lookups per inode the way the kernel does (lookup and each
/// readdirplus entry +1, forget −n) and remembers if a count ever went
/// negative, so tests can check that the adapter mirrors the kernel.
final class InMemoryCore: FileSystemCore {
    static let bigCount = 2000
    static let fileBytes: [UInt8] = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
    static let xattrValue: [UInt8] = Array("hello-xattr".utf8)
    static let linkTarget: [UInt8] = Array("file.txt".utf8)
    static let mtime: Int64 = 1_700_000_000
    static let mtimeNanoseconds: Int32 = 123_456_789

    let kernelCacheTimeout: Double = 60

    private struct State {
        var lookupCounts: [UInt64: Int64] = [:]
        var wentNegative = false
        var missLookups = 0
        var plusSlices = 0
        var nextHandle: UInt64 = 1
        var directories: [UInt64: [(name: [UInt8], attributes: InodeAttributes)]] = [:]
        var files: [UInt64: UInt64] = [:]
    }
    private let state = Mutex(State())

    // MARK: Observations for tests

    /// Inodes whose lookup count is not zero.
    var outstandingLookups: [UInt64: Int64] {
        state.withLock { $0.lookupCounts.filter { $0.value != 0 } }
    }
    var lookupCountWentNegative: Bool { state.withLock { $0.wentNegative } }
    /// Lookups of names that do not exist (served as negative entries).
    var missLookups: Int { state.withLock { $0.missLookups } }
    /// readDirectory calls with `plus` (one per readdirplus reply buffer).
    var plusSlices: Int { state.withLock { $0.plusSlices } }
    var openHandles: Int { state.withLock { $0.directories.count + $0.files.count } }

    // MARK: The tree

    private static func attributes(_ inode: UInt64) -> InodeAttributes? {
        func make(_ mode: UInt32, _ size: UInt64, links: UInt32 = 1) -> InodeAttributes {
            InodeAttributes(inode: inode, mode: mode, linkCount: links, uid: 0, gid: 0, size: size, rdev: 0,
                            mtime: mtime, mtimeNanoseconds: mtimeNanoseconds)
        }
        switch inode {
        case 1: return make(0o040755, 4096, links: 3)
        case 2: return make(0o040755, 4096, links: 2)
        case 3: return make(0o100644, UInt64(fileBytes.count))
        case 4: return make(0o120777, UInt64(linkTarget.count))
        case 5: return make(0o100644, 4096)
        case 1000..<UInt64(1000 + bigCount): return make(0o100644, inode)
        default: return nil
        }
    }

    private static func children(_ inode: UInt64) -> [(String, UInt64)]? {
        switch inode {
        case 1: return [("big", 2), ("file.txt", 3), ("link", 4), ("broken", 5)]
        case 2: return (0..<bigCount).map { (bigName($0), UInt64(1000 + $0)) }
        default: return attributes(inode) == nil ? nil : []
        }
    }

    static func bigName(_ index: Int) -> String {
        let digits = String(index)
        return "f" + String(repeating: "0", count: 4 - digits.count) + digits
    }

    private func counted(_ inode: UInt64, _ delta: Int64, _ state: inout State) {
        let value = state.lookupCounts[inode, default: 0] + delta
        if value < 0 { state.wentNegative = true }
        state.lookupCounts[inode] = value
    }

    // MARK: FileSystemCore

    func lookup(parent: UInt64, name: UnsafeRawBufferPointer) throws(FileSystemError) -> InodeAttributes {
        guard let entries = Self.children(parent) else { throw .staleHandle }
        guard Self.attributes(parent)!.isDirectory else { throw .notADirectory }
        let wanted = Array(name)
        guard let (_, inode) = entries.first(where: { Array($0.0.utf8) == wanted }) else {
            state.withLock { $0.missLookups += 1 }
            throw .notFound
        }
        state.withLock { counted(inode, 1, &$0) }
        return Self.attributes(inode)!
    }

    func forget(_ inode: UInt64, count: UInt64) {
        state.withLock { counted(inode, -Int64(count), &$0) }
    }

    func getattr(_ inode: UInt64) throws(FileSystemError) -> InodeAttributes {
        guard let attributes = Self.attributes(inode) else { throw .staleHandle }
        return attributes
    }

    func readlink(_ inode: UInt64) throws(FileSystemError) -> [UInt8] {
        guard inode == 4 else { throw .notASymlink }
        return Self.linkTarget
    }

    func openDirectory(_ inode: UInt64) throws(FileSystemError) -> UInt64 {
        guard let attributes = Self.attributes(inode) else { throw .staleHandle }
        guard attributes.isDirectory, let entries = Self.children(inode) else { throw .notADirectory }
        var listing: [(name: [UInt8], attributes: InodeAttributes)] = [(Array(".".utf8), attributes)]
        if inode != 1 { listing.append((Array("..".utf8), Self.attributes(1)!)) }
        for (name, child) in entries { listing.append((Array(name.utf8), Self.attributes(child)!)) }
        return state.withLock { state in
            let handle = state.nextHandle
            state.nextHandle += 1
            state.directories[handle] = listing
            return handle
        }
    }

    func readDirectory(_ handle: UInt64, offset: UInt64, plus: Bool,
                       _ body: (UnsafeRawBufferPointer, InodeAttributes, UInt64) -> Bool) throws(FileSystemError) {
        guard let listing = state.withLock({ state in
            if plus { state.plusSlices += 1 }
            return state.directories[handle]
        }) else { throw .staleHandle }
        var index = Int(offset)
        while index < listing.count {
            let entry = listing[index]
            let isDot = entry.name == Array(".".utf8) || entry.name == Array("..".utf8)
            // Each non-dot entry handed out with `plus` is a lookup (FileSystemCore docs).
            if plus && !isDot { state.withLock { counted(entry.attributes.inode, 1, &$0) } }
            let more = entry.name.withUnsafeBytes { body($0, entry.attributes, UInt64(index + 1)) }
            if !more { return }
            index += 1
        }
    }

    func releaseDirectory(_ handle: UInt64) {
        _ = state.withLock { $0.directories.removeValue(forKey: handle) }
    }

    func open(_ inode: UInt64) throws(FileSystemError) -> OpenedFile {
        guard let attributes = Self.attributes(inode) else { throw .staleHandle }
        if attributes.isDirectory { throw .isADirectory }
        return state.withLock { state in
            let handle = state.nextHandle
            state.nextHandle += 1
            state.files[handle] = inode
            return OpenedFile(handle: handle, keepCache: true, directIO: inode == 5)
        }
    }

    func read(_ handle: UInt64, offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(FileSystemError) -> Int {
        guard let inode = state.withLock({ $0.files[handle] }) else { throw .staleHandle }
        switch inode {
        case 3:
            let bytes = Self.fileBytes
            guard offset < UInt64(bytes.count) else { return 0 }
            let count = min(buffer.count, bytes.count - Int(offset))
            bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[Int(offset)..<Int(offset) + count])) }
            return count
        case 5:
            let hash = ContentHash(printable: "0123456789abcdef0123456789abcdef01234567")!
            let path = hash.objectPath(suffix: .none)
            throw .object(path, .downloadFailed(hash: hash, .hostHTTP(url: "http://stratum1/" + path, host: "http://stratum1",
                                                                       proxy: .direct, status: 404)))
        default:
            let size = Int(Self.attributes(inode)!.size)
            guard offset < UInt64(size) else { return 0 }
            let count = min(buffer.count, size - Int(offset))
            buffer.baseAddress!.initializeMemory(as: UInt8.self, repeating: UInt8(ascii: "x"), count: count)
            return count
        }
    }

    func release(_ handle: UInt64) {
        _ = state.withLock { $0.files.removeValue(forKey: handle) }
    }

    func getxattr(_ inode: UInt64, name: UnsafeRawBufferPointer) throws(FileSystemError) -> [UInt8] {
        guard inode == 3 else { throw .noAttribute }
        switch Array(name) {
        case Array("user.test".utf8): return Self.xattrValue
        case Array("user.other".utf8): return Array("2".utf8)
        default: throw .noAttribute
        }
    }

    func listxattr(_ inode: UInt64) throws(FileSystemError) -> [UInt8] {
        inode == 3 ? Array("user.test\0user.other\0".utf8) : []
    }

    func statfs() -> FileSystemStatistics {
        FileSystemStatistics(blockSize: 512, blocks: 2048, freeBlocks: 1024, files: UInt64(Self.bigCount + 5), freeFiles: 7)
    }
}
