import CFuse3
import CVMFSClient

/// What every request handler needs: the core and the kernel cache timeout.
/// Handed to libfuse as the session's userdata (an unmanaged, retained box
/// that `FuseMount.run` releases after `fuse_session_destroy`). Immutable.
final class FuseContext: Sendable {
    let core: any FileSystemCore
    /// `core.kernelCacheTimeout`, read once per request through `timeout`.
    var timeout: Double { core.kernelCacheTimeout }

    init(core: any FileSystemCore) {
        self.core = core
    }

    /// The context of the session a request belongs to.
    @inline(__always)
    static func of(_ req: fuse_req_t?) -> FuseContext {
        Unmanaged<FuseContext>.fromOpaque(fuse_req_userdata(req)!).takeUnretainedValue()
    }

    /// A positive entry: entry and attribute timeouts are the kcache timeout (§8).
    @inline(__always)
    func entry(_ attributes: InodeAttributes, timeout: Double) -> fuse_entry_param {
        var e = fuse_entry_param()
        e.ino = attributes.inode
        e.generation = 0
        e.attr = attributes.stat
        e.attr_timeout = timeout
        e.entry_timeout = timeout
        return e
    }

    /// A negative entry: ino 0 with entry_timeout lets the kernel cache the
    /// miss (client-behaviour.md §8).
    @inline(__always)
    func negativeEntry(timeout: Double) -> fuse_entry_param {
        var e = fuse_entry_param()
        e.ino = 0
        e.entry_timeout = timeout
        return e
    }
}
