/// One entry of the tree being published, as read from the source folder.
public struct SourceEntry: Sendable {
    public enum Kind: Sendable, Equatable {
        case directory
        case regular
        case symlink
        /// fifo, socket, character or block device
        case special
    }

    /// The last path component, as raw bytes.
    public var name: [UInt8]
    /// The path inside the repository: "" for the root, "/a/b" otherwise.
    public var repositoryPath: String
    /// The path of the source on disk.
    public var sourcePath: String
    public var kind: Kind
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var size: Int64
    public var mtime: Int64
    public var mtimeNanoseconds: Int32
    public var rdev: UInt64
    public var symlinkTarget: [UInt8]
    /// Extended attributes to publish, sorted by key.
    public var xattrs: [(key: [UInt8], value: [UInt8])]
    /// Device and inode, to find hard links inside one directory.
    public var device: UInt64
    public var inode: UInt64
    public var linkCountOnDisk: UInt64
    /// Indices into the scanned tree's entry array, sorted by name bytes.
    public var children: [Int]
}
