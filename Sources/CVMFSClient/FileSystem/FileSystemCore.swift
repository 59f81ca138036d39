/// The read-only file system a FUSE adapter serves, with no FUSE types in it.
///
/// Inode numbers are the kernel's: the root is `FileSystemCore.rootInode`
/// (FUSE's `FUSE_ROOT_ID`). Every successful `lookup` and every entry handed
/// out by `readDirectoryPlus` adds one to the inode's lookup count; `forget`
/// subtracts, and an inode may be dropped at zero. All methods are called
/// concurrently from the FUSE worker threads.
public protocol FileSystemCore: AnyObject, Sendable {
    /// Seconds the kernel may cache entries and attributes (and negative entries).
    var kernelCacheTimeout: Double { get }

    /// Resolves `name` in directory `parent`. `.notFound` is a real miss the
    /// kernel may cache negatively.
    func lookup(parent: UInt64, name: UnsafeRawBufferPointer) throws(FileSystemError) -> InodeAttributes
    func forget(_ inode: UInt64, count: UInt64)
    func getattr(_ inode: UInt64) throws(FileSystemError) -> InodeAttributes
    /// The symlink's target after variant expansion.
    func readlink(_ inode: UInt64) throws(FileSystemError) -> [UInt8]

    /// Builds the listing once (docs/format/client-behaviour.md §8) and returns a handle.
    func openDirectory(_ inode: UInt64) throws(FileSystemError) -> UInt64
    /// Hands out entries from `offset` (0 = start; each entry carries the
    /// offset of the next one) until `body` returns false (reply buffer full).
    /// With `plus`, each entry handed out counts as a lookup; an entry that
    /// did not fit must be returned with `forget(_, 1)` by the caller.
    func readDirectory(_ handle: UInt64, offset: UInt64, plus: Bool,
                       _ body: (_ name: UnsafeRawBufferPointer, _ attributes: InodeAttributes, _ nextOffset: UInt64) -> Bool) throws(FileSystemError)
    func releaseDirectory(_ handle: UInt64)

    /// Opens a regular file for reading.
    func open(_ inode: UInt64) throws(FileSystemError) -> OpenedFile
    /// Reads up to `buffer.count` bytes at `offset`; returns the count (short at EOF).
    func read(_ handle: UInt64, offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(FileSystemError) -> Int
    func release(_ handle: UInt64)

    /// The value of an extended attribute (catalog xattrs and magic ones).
    func getxattr(_ inode: UInt64, name: UnsafeRawBufferPointer) throws(FileSystemError) -> [UInt8]
    /// Attribute names, each followed by a NUL byte.
    func listxattr(_ inode: UInt64) throws(FileSystemError) -> [UInt8]
    func statfs() -> FileSystemStatistics
}

extension FileSystemCore {
    public static var rootInode: UInt64 { 1 }
}

/// The result of opening a file: the handle and how the kernel should cache it.
public struct OpenedFile: Sendable {
    public var handle: UInt64
    /// Keep the page cache from an earlier open (the content did not change).
    public var keepCache: Bool
    /// Bypass the page cache (catalog flag 0x10000, or content replaced while open).
    public var directIO: Bool

    public init(handle: UInt64, keepCache: Bool, directIO: Bool) {
        self.handle = handle
        self.keepCache = keepCache
        self.directIO = directIO
    }
}

/// `statvfs` figures (docs/format/client-behaviour.md §9).
public struct FileSystemStatistics: Sendable {
    public var blockSize: UInt64
    public var blocks: UInt64
    public var freeBlocks: UInt64
    public var files: UInt64
    public var freeFiles: UInt64
    public var nameMax: UInt64 = 255

    public init(blockSize: UInt64, blocks: UInt64, freeBlocks: UInt64, files: UInt64, freeFiles: UInt64) {
        self.blockSize = blockSize
        self.blocks = blocks
        self.freeBlocks = freeBlocks
        self.files = files
        self.freeFiles = freeFiles
    }
}

/// A byte range of an open file descriptor: where a read's bytes live in
/// the cache, so a FUSE adapter can splice them instead of copying.
public struct FileSegment: Sendable {
    public var fd: Int32
    public var offset: UInt64
    public var count: Int

    public init(fd: Int32, offset: UInt64, count: Int) {
        self.fd = fd
        self.offset = offset
        self.count = count
    }
}

/// Zero-copy reads: an optional refinement of `FileSystemCore`.
public protocol SegmentedReading: FileSystemCore {
    /// Calls `body` with the descriptor ranges holding up to `size` bytes at
    /// `offset` (fewer at end of file, none past it), in order; the
    /// descriptors stay valid until `body` returns. Returns false, without
    /// calling `body`, when this read should use `read(_:offset:into:)`.
    func withSegments(_ handle: UInt64, offset: UInt64, size: Int,
                      _ body: (UnsafeBufferPointer<FileSegment>) -> Void) throws(FileSystemError) -> Bool
}
