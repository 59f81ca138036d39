/// What `stat` shows for one inode: the FUSE-free form of `struct stat`.
public struct InodeAttributes: Sendable, Equatable {
    public var inode: UInt64
    /// Full `st_mode`, type bits included.
    public var mode: UInt32
    public var linkCount: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var size: UInt64
    public var rdev: UInt64
    public var mtime: Int64
    public var mtimeNanoseconds: Int32

    public init(inode: UInt64, mode: UInt32, linkCount: UInt32, uid: UInt32, gid: UInt32, size: UInt64, rdev: UInt64, mtime: Int64, mtimeNanoseconds: Int32) {
        self.inode = inode
        self.mode = mode
        self.linkCount = linkCount
        self.uid = uid
        self.gid = gid
        self.size = size
        self.rdev = rdev
        self.mtime = mtime
        self.mtimeNanoseconds = mtimeNanoseconds
    }

    public var isDirectory: Bool { mode & 0o170000 == 0o040000 }
    public var isRegular: Bool { mode & 0o170000 == 0o100000 }
    public var isSymlink: Bool { mode & 0o170000 == 0o120000 }
}
