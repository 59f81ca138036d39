import CVMFSFormat

/// The inodes the kernel holds, with their lookup counts.
///
/// Inodes are a catalog's inode offset plus a row id, so the inodes a walk
/// leaves in the kernel are dense runs: they are kept in pages of 1024 slots
/// indexed by the inode itself (no hash table, no key stored; a page goes
/// when its last inode is forgotten), 48 bytes a slot. Names are packed in
/// one byte arena, compacted when half of it belongs to forgotten inodes.
/// 100k inodes: about 5 MB of pages and 1 MB of names.
struct InodeTable: Sendable {
    private struct Slot: Sendable {
        var parent: UInt64 = 0
        var pathHash = PathHash(high: 0, low: 0)
        var catalog: MountedCatalog?
        /// 0 for an empty slot.
        var lookups: UInt64 = 0
        var nameStart: UInt32 = 0
        var nameCount: UInt16 = 0
        var flags: UInt8 = 0
        var type: UInt8 = 0
    }

    /// `@unchecked Sendable`: a table lives in the file system's `Mutex`,
    /// and its pages are reached only through it.
    private final class Page: @unchecked Sendable {
        var slots = ContiguousArray(repeating: Slot(), count: InodeTable.pageSize)
        var live = 0
    }

    private static let pageShift = 10
    private static let pageSize = 1 << pageShift

    private var pages: [UInt64: Page] = [:]
    private var names: [UInt8] = []
    private var forgottenNameBytes = 0
    private(set) var count = 0

    @inline(__always)
    private func location(_ inode: UInt64) -> (page: Page, index: Int)? {
        guard let page = pages[inode >> Self.pageShift] else { return nil }
        let index = Int(inode & UInt64(Self.pageSize - 1))
        return page.slots[index].lookups > 0 ? (page, index) : nil
    }

    subscript(inode: UInt64) -> InodeRecord? {
        guard let (page, index) = location(inode) else { return nil }
        let slot = page.slots[index]
        return InodeRecord(parent: slot.parent, pathHash: slot.pathHash, catalog: slot.catalog!,
                           flags: InodeRecord.Flags(rawValue: slot.flags), type: slot.type)
    }

    /// Adds `count` kernel references to `inode`, storing `record` and
    /// `name` if the kernel did not hold it yet (an inode already held keeps
    /// its record: a hardlink seen under a second name keeps the first).
    mutating func remember(_ inode: UInt64, _ record: InodeRecord, name: UnsafeRawBufferPointer, count references: UInt64 = 1) {
        if let (page, index) = location(inode) {
            page.slots[index].lookups += references
            return
        }
        let key = inode >> Self.pageShift
        let page: Page
        if let existing = pages[key] {
            page = existing
        } else {
            page = Page()
            pages[key] = page
        }
        let nameCount = UInt16(clamping: name.count)
        page.slots[Int(inode & UInt64(Self.pageSize - 1))] = Slot(
            parent: record.parent, pathHash: record.pathHash, catalog: record.catalog, lookups: references,
            nameStart: UInt32(names.count), nameCount: nameCount, flags: record.flags.rawValue, type: record.type)
        names.append(contentsOf: name.prefix(Int(nameCount)))
        page.live += 1
        count += 1
    }

    /// Drops `count` kernel references; the record goes with the last one.
    /// Returns that record's catalog, for the caller to let go of outside the
    /// table's lock: the last reference to an old revision's catalog closes it.
    @discardableResult
    mutating func forget(_ inode: UInt64, count references: UInt64) -> MountedCatalog? {
        guard let (page, index) = location(inode) else { return nil }
        if page.slots[index].lookups > references {
            page.slots[index].lookups -= references
            return nil
        }
        let catalog = page.slots[index].catalog
        forgottenNameBytes += Int(page.slots[index].nameCount)
        page.slots[index] = Slot()
        page.live -= 1
        count -= 1
        if page.live == 0 { pages[inode >> Self.pageShift] = nil }
        if forgottenNameBytes > 4096 && forgottenNameBytes * 2 > names.count { compactNames() }
        return catalog
    }

    /// Replaces the record of an inode the kernel holds, keeping its count and name.
    mutating func replace(_ inode: UInt64, with record: InodeRecord) {
        guard let (page, index) = location(inode) else { return }
        page.slots[index].parent = record.parent
        page.slots[index].pathHash = record.pathHash
        page.slots[index].catalog = record.catalog
        page.slots[index].flags = record.flags.rawValue
        page.slots[index].type = record.type
    }

    func lookups(of inode: UInt64) -> UInt64 {
        location(inode).map { $0.page.slots[$0.index].lookups } ?? 0
    }

    /// The repository path ("/a/b", "" for the root), from the names up the
    /// parent chain. A hardlinked file whose first parent the kernel has
    /// already forgotten gets what is left of its chain.
    func path(of inode: UInt64, root: UInt64) -> [UInt8] {
        // Two walks up the chain (its length, then the names from the end)
        // instead of collecting the chain: lookups build a path every time.
        var length = 0
        var depth = 0
        var current = inode
        while current != root, let (page, index) = location(current), depth < 4096 {
            length += 1 + Int(page.slots[index].nameCount)
            depth += 1
            current = page.slots[index].parent
        }
        return [UInt8](unsafeUninitializedCapacity: length) { buffer, initialized in
            var end = length
            var current = inode
            for _ in 0..<depth {
                let (page, index) = location(current)!
                let name = self.name(of: page.slots[index])
                end -= name.count
                _ = UnsafeMutableBufferPointer(rebasing: buffer[end..<end + name.count]).initialize(from: name)
                end -= 1
                buffer[end] = UInt8(ascii: "/")
                current = page.slots[index].parent
            }
            initialized = length
        }
    }

    /// Every inode held with its parent and name, in no particular order.
    func forEach(_ body: (_ inode: UInt64, _ parent: UInt64, _ name: ArraySlice<UInt8>) -> Void) {
        for (key, page) in pages {
            for index in page.slots.indices where page.slots[index].lookups > 0 {
                let slot = page.slots[index]
                body(key << Self.pageShift | UInt64(index), slot.parent, name(of: slot))
            }
        }
    }

    private func name(of slot: Slot) -> ArraySlice<UInt8> {
        names[Int(slot.nameStart)..<Int(slot.nameStart) + Int(slot.nameCount)]
    }

    private mutating func compactNames() {
        var packed: [UInt8] = []
        packed.reserveCapacity(names.count - forgottenNameBytes)
        for page in pages.values {
            for index in page.slots.indices where page.slots[index].lookups > 0 {
                let name = name(of: page.slots[index])
                page.slots[index].nameStart = UInt32(packed.count)
                packed.append(contentsOf: name)
            }
        }
        names = packed
        forgottenNameBytes = 0
    }
}
