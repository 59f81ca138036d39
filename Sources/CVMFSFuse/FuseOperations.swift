import CFuse3
import CVMFSClient
#if canImport(Glibc)
import Glibc
#endif

/// The one low-level ops table, so every supported operation is listed in one
/// place. Every entry is a `@convention(c)` thunk below; each thunk computes a
/// result and replies exactly once, at its last line: a second reply, or none,
/// breaks the kernel request (docs/fuse-notes.md §1). Write operations are
/// absent: the mount is `ro`, so the kernel answers them with EROFS.
enum FuseOperations {
    static func table() -> fuse_lowlevel_ops {
        var ops = fuse_lowlevel_ops()
        ops.`init` = fuseInit
        ops.lookup = fuseLookup
        ops.forget = fuseForget
        ops.forget_multi = fuseForgetMulti
        ops.getattr = fuseGetattr
        ops.readlink = fuseReadlink
        ops.opendir = fuseOpendir
        ops.readdir = fuseReaddir
        ops.readdirplus = fuseReaddirplus
        ops.releasedir = fuseReleasedir
        ops.open = fuseOpen
        ops.read = fuseRead
        ops.release = fuseRelease
        ops.getxattr = fuseGetxattr
        ops.listxattr = fuseListxattr
        ops.statfs = fuseStatfs
        return ops
    }
}

// MARK: - Reply helpers: one per reply kind, each the single reply site of its handler.

@inline(__always)
private func replyEntry(_ req: fuse_req_t?, _ result: Result<fuse_entry_param, FileSystemError>) {
    switch result {
    case .success(var entry): fuse_reply_entry(req, &entry)
    case .failure(let error): fuse_reply_err(req, error.errno)
    }
}

@inline(__always)
private func replyAttr(_ req: fuse_req_t?, _ result: Result<InodeAttributes, FileSystemError>, timeout: Double) {
    switch result {
    case .success(let attributes):
        var st = attributes.stat
        fuse_reply_attr(req, &st, timeout)
    case .failure(let error): fuse_reply_err(req, error.errno)
    }
}

@inline(__always)
func replyOpen(_ req: fuse_req_t?, _ fi: UnsafeMutablePointer<fuse_file_info>?, _ result: Result<Void, FileSystemError>) {
    switch result {
    case .success: fuse_reply_open(req, fi)
    case .failure(let error): fuse_reply_err(req, error.errno)
    }
}

/// Replies with `count` bytes of `buffer`, or with the error.
@inline(__always)
func replyBuffer(_ req: fuse_req_t?, _ buffer: UnsafeRawPointer?, _ result: Result<Int, FileSystemError>) {
    switch result {
    case .success(let count): fuse_reply_buf(req, buffer?.assumingMemoryBound(to: CChar.self), count)
    case .failure(let error): fuse_reply_err(req, error.errno)
    }
}

/// Replies with the file ranges (at most `OpenFile.maxSegments`, 8).
func replySegments(_ req: fuse_req_t?, _ segments: UnsafeBufferPointer<FileSegment>) {
    let count = segments.count
    withUnsafeTemporaryAllocation(of: Int32.self, capacity: max(count, 1)) { fds in
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: max(count, 1)) { offsets in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: max(count, 1)) { sizes in
                for (i, segment) in segments.enumerated() {
                    fds[i] = segment.fd
                    offsets[i] = segment.offset
                    sizes[i] = segment.count
                }
                _ = cvmfs_fuse_reply_fds(req, count, fds.baseAddress, offsets.baseAddress, sizes.baseAddress)
            }
        }
    }
}

/// The reply to getxattr/listxattr: the size alone, the value, or an error.
private enum XattrReply {
    case size(Int)
    case value([UInt8])
    case error(Int32)
}

@inline(__always)
private func replyXattr(_ req: fuse_req_t?, _ reply: XattrReply) {
    switch reply {
    case .size(let count): fuse_reply_xattr(req, count)
    case .value(let bytes): bytes.withUnsafeBytes { _ = fuse_reply_buf(req, $0.baseAddress?.assumingMemoryBound(to: CChar.self), $0.count) }
    case .error(let errno): fuse_reply_err(req, errno)
    }
}

/// getxattr/listxattr size rule (docs/format/client-behaviour.md §9): size 0 asks for the
/// needed length; a non-zero size smaller than the value is ERANGE.
@inline(__always)
private func xattrReply(_ result: Result<[UInt8], FileSystemError>, size: Int) -> XattrReply {
    switch result {
    case .success(let bytes):
        if size == 0 { return .size(bytes.count) }
        if bytes.count > size { return .error(ERANGE) }
        return .value(bytes)
    case .failure(let error):
        return .error(error.errno)
    }
}

/// A C string from libfuse as the raw bytes the core takes (no NUL).
@inline(__always)
private func nameBytes(_ name: UnsafePointer<CChar>?) -> UnsafeRawBufferPointer {
    guard let name else { return UnsafeRawBufferPointer(start: nil, count: 0) }
    return UnsafeRawBufferPointer(start: name, count: strlen(name))
}

// MARK: - Session

/// Capability negotiation: want a bit only if the kernel is capable (libfuse
/// aborts the session otherwise; docs/fuse-notes.md §3).
func fuseInit(_ userdata: UnsafeMutableRawPointer?, _ conn: UnsafeMutablePointer<fuse_conn_info>?) {
    guard let conn else { return }
    let capable = conn.pointee.capable
    var want = conn.pointee.want
    // readdirplus saves one lookup round trip per entry on `ls -l` and tree
    // walks: the entries arrive with their attributes and timeouts, so the
    // kernel's dcache answers the following stat() calls.
    for flag in [UInt32(FUSE_CAP_READDIRPLUS),
                 UInt32(FUSE_CAP_ASYNC_READ), UInt32(FUSE_CAP_PARALLEL_DIROPS)] where capable & flag != 0 {
        want |= flag
    }
    // Without _AUTO the kernel always asks for readdirplus. With it (libfuse
    // turns it on by default) only the first slice of a listing is "plus",
    // and every later entry costs a separate LOOKUP round trip: a find over
    // 100k entries made 100k requests (≈100 µs each here) instead of a few
    // hundred readdirplus ones. The listing is built at opendir anyway, so
    // the attributes are free.
    want &= ~UInt32(FUSE_CAP_READDIRPLUS_AUTO)
    // File reads are answered with cache-file ranges (fuse_reply_data):
    // with SPLICE_WRITE libfuse splices them file → pipe → /dev/fuse, one
    // kernel copy and no pass through user space. SPLICE_MOVE is left off:
    // page-cache pages cannot be stolen, so the kernel would only try and copy.
    if capable & UInt32(FUSE_CAP_SPLICE_WRITE) != 0 { want |= UInt32(FUSE_CAP_SPLICE_WRITE) }
    conn.pointee.want = want
    conn.pointee.max_write = KernelReadAhead.requestSize()
    // max_readahead is left at the kernel's offer, which is already the
    // maximum it accepts (it takes the minimum of both); the window is
    // widened after INIT (FuseContext.widenReadAheadOnce).
}

// MARK: - Inodes

func fuseLookup(_ req: fuse_req_t?, _ parent: fuse_ino_t, _ name: UnsafePointer<CChar>?) {
    let context = FuseContext.of(req)
    let timeout = context.timeout
    let result: Result<fuse_entry_param, FileSystemError>
    do {
        let attributes = try context.core.lookup(parent: parent, name: nameBytes(name))
        result = .success(context.entry(attributes, timeout: timeout))
    } catch .notFound {
        // A real miss is cached negatively by the kernel (docs/format/client-behaviour.md §8); EIO is not.
        result = .success(context.negativeEntry(timeout: timeout))
    } catch {
        result = .failure(error)
    }
    replyEntry(req, result)
}

func fuseForget(_ req: fuse_req_t?, _ inode: fuse_ino_t, _ count: UInt64) {
    FuseContext.of(req).core.forget(inode, count: count)
    fuse_reply_none(req)
}

func fuseForgetMulti(_ req: fuse_req_t?, _ count: Int, _ forgets: UnsafeMutablePointer<fuse_forget_data>?) {
    let core = FuseContext.of(req).core
    if let forgets {
        for item in UnsafeBufferPointer(start: forgets, count: count) {
            core.forget(item.ino, count: item.nlookup)
        }
    }
    fuse_reply_none(req)
}

func fuseGetattr(_ req: fuse_req_t?, _ inode: fuse_ino_t, _ fi: UnsafeMutablePointer<fuse_file_info>?) {
    let context = FuseContext.of(req)
    let result = Result { () throws(FileSystemError) in try context.core.getattr(inode) }
    replyAttr(req, result, timeout: context.timeout)
}

func fuseReadlink(_ req: fuse_req_t?, _ inode: fuse_ino_t) {
    let context = FuseContext.of(req)
    let result = Result { () throws(FileSystemError) in try context.core.readlink(inode) }
    switch result {
    case .success(let target):
        // fuse_reply_readlink wants a NUL-terminated string.
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: target.count + 1) { link in
            UnsafeMutableRawBufferPointer(link).copyBytes(from: target)
            link[target.count] = 0
            fuse_reply_readlink(req, link.baseAddress)
        }
    case .failure(let error):
        fuse_reply_err(req, error.errno)
    }
}

// MARK: - Files

func fuseOpen(_ req: fuse_req_t?, _ inode: fuse_ino_t, _ fi: UnsafeMutablePointer<fuse_file_info>?) {
    let context = FuseContext.of(req)
    context.widenReadAheadOnce()
    let flags = fi?.pointee.flags ?? 0
    let result: Result<Void, FileSystemError>
    if flags & O_ACCMODE != O_RDONLY {
        // The kernel already refuses writes on an `ro` mount; this guards
        // mounts made without it.
        result = .failure(.readOnly)
    } else {
        result = Result { () throws(FileSystemError) in
            let opened = try context.core.open(inode)
            fi?.pointee.fh = opened.handle
            cvmfs_fuse_fi_set_cache(fi, opened.keepCache ? 1 : 0, opened.directIO ? 1 : 0)
        }
    }
    replyOpen(req, fi, result)
}

func fuseRead(_ req: fuse_req_t?, _ inode: fuse_ino_t, _ size: Int, _ offset: off_t, _ fi: UnsafeMutablePointer<fuse_file_info>?) {
    let context = FuseContext.of(req)
    let handle = fi?.pointee.fh ?? 0
    if let segmented = context.segmentedCore {
        // The bytes stay in the cache files: libfuse splices them into the
        // reply (one kernel copy instead of pread + writev).
        let served = Result { () throws(FileSystemError) -> Bool in
            try segmented.withSegments(handle, offset: UInt64(offset), size: size) { segments in
                replySegments(req, segments)
            }
        }
        switch served {
        case .success(true): return
        case .success(false): break
        case .failure(let error): fuse_reply_err(req, error.errno); return
        }
    }
    ThreadBuffer.with(count: size) { buffer in
        let result = Result { () throws(FileSystemError) in
            try context.core.read(handle, offset: UInt64(offset), into: buffer)
        }
        replyBuffer(req, UnsafeRawPointer(buffer.baseAddress), result)
    }
}

func fuseRelease(_ req: fuse_req_t?, _ inode: fuse_ino_t, _ fi: UnsafeMutablePointer<fuse_file_info>?) {
    FuseContext.of(req).core.release(fi?.pointee.fh ?? 0)
    fuse_reply_err(req, 0)
}

// MARK: - Extended attributes and statfs

func fuseGetxattr(_ req: fuse_req_t?, _ inode: fuse_ino_t, _ name: UnsafePointer<CChar>?, _ size: Int) {
    let core = FuseContext.of(req).core
    let result = Result { () throws(FileSystemError) in try core.getxattr(inode, name: nameBytes(name)) }
    replyXattr(req, xattrReply(result, size: size))
}

func fuseListxattr(_ req: fuse_req_t?, _ inode: fuse_ino_t, _ size: Int) {
    let core = FuseContext.of(req).core
    let result = Result { () throws(FileSystemError) in try core.listxattr(inode) }
    replyXattr(req, xattrReply(result, size: size))
}

func fuseStatfs(_ req: fuse_req_t?, _ inode: fuse_ino_t) {
    let figures = FuseContext.of(req).core.statfs()
    var st = statvfs()
    st.f_bsize = UInt(figures.blockSize)
    st.f_frsize = UInt(figures.blockSize)
    st.f_blocks = UInt(figures.blocks)
    st.f_bfree = UInt(figures.freeBlocks)
    st.f_bavail = UInt(figures.freeBlocks)
    st.f_files = UInt(figures.files)
    st.f_ffree = UInt(figures.freeFiles)
    st.f_favail = UInt(figures.freeFiles)
    st.f_namemax = UInt(figures.nameMax)
    fuse_reply_statfs(req, &st)
}
