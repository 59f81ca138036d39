import CFuse3
import CVMFSClient
#if canImport(Glibc)
import Glibc
#endif

// Directory handlers. The core builds the listing at opendir and hands it out
// in slices by offset (docs/format/client-behaviour.md §8).

func fuseOpendir(_ req: fuse_req_t?, _ inode: fuse_ino_t, _ fi: UnsafeMutablePointer<fuse_file_info>?) {
    let core = FuseContext.of(req).core
    let result = Result { () throws(FileSystemError) in
        let handle = try core.openDirectory(inode)
        fi?.pointee.fh = handle
        // A revision's listing never changes, so the kernel may keep it: a
        // repeated walk then reads directories from its page cache without
        // a request. Not the root: its inode survives a revision switch
        // while its listing changes (docs/format/client-behaviour.md §7-8); a directory
        // of an old revision keeps its inode only while the kernel holds it.
        if inode != fuse_ino_t(FUSE_ROOT_ID) { cvmfs_fuse_fi_set_cache_readdir(fi, 1) }
    }
    replyOpen(req, fi, result)
}

func fuseReleasedir(_ req: fuse_req_t?, _ inode: fuse_ino_t, _ fi: UnsafeMutablePointer<fuse_file_info>?) {
    FuseContext.of(req).core.releaseDirectory(fi?.pointee.fh ?? 0)
    fuse_reply_err(req, 0)
}

func fuseReaddir(_ req: fuse_req_t?, _ inode: fuse_ino_t, _ size: Int, _ offset: off_t, _ fi: UnsafeMutablePointer<fuse_file_info>?) {
    readDirectory(req, size: size, offset: offset, fi: fi, plus: false)
}

func fuseReaddirplus(_ req: fuse_req_t?, _ inode: fuse_ino_t, _ size: Int, _ offset: off_t, _ fi: UnsafeMutablePointer<fuse_file_info>?) {
    readDirectory(req, size: size, offset: offset, fi: fi, plus: true)
}

/// Fills one reply buffer from the listing. With `plus`, the two readdirplus
/// traps apply (docs/fuse-notes.md §2): the entry that did not fit had its lookup
/// counted by the core, so it is rolled back with `forget(_, 1)`; and an
/// error after some entries were buffered is not reported, the partial
/// buffer goes back instead (the kernel counts lookups for what it gets).
///
/// `.` and `..` are never looked up: the core hands them out without a
/// lookup count, and they go to the kernel with ino 0 (no dentry, no count).
@inline(__always)
private func readDirectory(_ req: fuse_req_t?, size: Int, offset: off_t, fi: UnsafeMutablePointer<fuse_file_info>?, plus: Bool) {
    let context = FuseContext.of(req)
    let core = context.core
    let timeout = context.timeout
    let handle = fi?.pointee.fh ?? 0
    ThreadBuffer.with(count: size) { buffer in
        let base = buffer.baseAddress!.assumingMemoryBound(to: CChar.self)
        var used = 0
        var unsent: UInt64? = nil
        let listing = Result { () throws(FileSystemError) in
            try core.readDirectory(handle, offset: UInt64(offset), plus: plus) { name, attributes, nextOffset in
                let dot = isDotOrDotDot(name)
                let needed = withCString(name) { cName in
                    if plus {
                        var entry = dot ? dotEntry(attributes) : context.entry(attributes, timeout: timeout)
                        return fuse_add_direntry_plus(req, base + used, size - used, cName, &entry, off_t(nextOffset))
                    }
                    var st = attributes.stat
                    return fuse_add_direntry(req, base + used, size - used, cName, &st, off_t(nextOffset))
                }
                guard needed <= size - used else {
                    if plus && !dot { unsent = attributes.inode }
                    return false
                }
                used += needed
                return true
            }
        }
        // Outside the core's callback, so the core may hold locks while iterating.
        if let unsent { core.forget(unsent, count: 1) }
        let reply: Result<Int, FileSystemError>
        switch listing {
        case .success: reply = .success(used)
        case .failure(let error): reply = used > 0 ? .success(used) : .failure(error)
        }
        replyBuffer(req, UnsafeRawPointer(base), reply)
    }
}

/// A readdirplus entry for `.` or `..`: type and inode number only, ino 0 so
/// the kernel neither creates a dentry nor counts a lookup.
@inline(__always)
private func dotEntry(_ attributes: InodeAttributes) -> fuse_entry_param {
    var entry = fuse_entry_param()
    entry.attr.st_ino = UInt(attributes.inode)
    entry.attr.st_mode = attributes.mode
    return entry
}

@inline(__always)
private func isDotOrDotDot(_ name: UnsafeRawBufferPointer) -> Bool {
    (name.count == 1 && name[0] == UInt8(ascii: ".")) ||
        (name.count == 2 && name[0] == UInt8(ascii: ".") && name[1] == UInt8(ascii: "."))
}

/// Lends `name` as a NUL-terminated C string from stack memory (names are at
/// most 255 bytes; longer ones still work, they just use a larger temporary).
@inline(__always)
private func withCString<R>(_ name: UnsafeRawBufferPointer, _ body: (UnsafePointer<CChar>) -> R) -> R {
    withUnsafeTemporaryAllocation(of: CChar.self, capacity: name.count + 1) { cName in
        UnsafeMutableRawBufferPointer(cName).copyBytes(from: name)
        cName[name.count] = 0
        return body(UnsafePointer(cName.baseAddress!))
    }
}
