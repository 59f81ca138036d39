import CVMFSClient
#if canImport(Glibc)
import Glibc
#endif

extension InodeAttributes {
    /// The `struct stat` the kernel gets. atime, ctime and mtime are all the
    /// catalog mtime; `st_blocks` counts 512-byte blocks, rounded up by one
    /// block as upstream cvmfs does.
    var stat: stat {
        var st = Glibc.stat()
        st.st_ino = UInt(inode)
        st.st_mode = mode
        st.st_nlink = UInt(linkCount)
        st.st_uid = uid
        st.st_gid = gid
        st.st_size = Int(truncatingIfNeeded: size)
        st.st_rdev = UInt(rdev)
        st.st_blksize = 4096
        st.st_blocks = Int(truncatingIfNeeded: 1 + size / 512)
        let time = timespec(tv_sec: Int(mtime), tv_nsec: Int(mtimeNanoseconds))
        st.st_atim = time
        st.st_mtim = time
        st.st_ctim = time
        return st
    }
}
