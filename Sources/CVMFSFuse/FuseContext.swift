import CFuse3
import CVMFSClient
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// What every request handler needs: the core and the kernel cache timeout.
/// Handed to libfuse as the session's userdata (an unmanaged, retained box
/// that `FuseMount.run` releases after `fuse_session_destroy`). Immutable.
final class FuseContext: Sendable {
    let core: any FileSystemCore
    /// The core again when it can lend file ranges for splicing (resolved
    /// once here, not with a dynamic cast on every read).
    let segmentedCore: (any SegmentedReading)?
    /// `core.kernelCacheTimeout`, read once per request through `timeout`.
    var timeout: Double { core.kernelCacheTimeout }

    private let mountPoint: String
    private let readAheadKilobytes: Int?
    private let readAheadPending = Atomic<Bool>(true)

    init(core: any FileSystemCore, mountPoint: String, readAheadKilobytes: Int?) {
        self.core = core
        segmentedCore = core as? any SegmentedReading
        self.mountPoint = mountPoint
        self.readAheadKilobytes = readAheadKilobytes
    }

    /// Widens the kernel's read-ahead window, once, at the first open: the
    /// INIT reply, which would narrow it again, has been sent by then.
    @inline(__always)
    func widenReadAheadOnce() {
        guard readAheadPending.load(ordering: .relaxed) else { return }
        guard readAheadPending.exchange(false, ordering: .relaxed), let kilobytes = readAheadKilobytes else { return }
        if let reason = KernelReadAhead.setWindow(kilobytes: kilobytes, mountPoint: mountPoint) {
            let line = "cvmfs-swift: read-ahead window left at the kernel's default: \(reason)\n"
            _ = line.withCString { write(STDERR_FILENO, $0, strlen($0)) }
        }
    }

    /// The context of the session a request belongs to.
    @inline(__always)
    static func of(_ req: fuse_req_t?) -> FuseContext {
        Unmanaged<FuseContext>.fromOpaque(fuse_req_userdata(req)!).takeUnretainedValue()
    }

    /// A positive entry: entry and attribute timeouts are the kcache timeout
    /// (docs/format/client-behaviour.md §8).
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
    /// miss (docs/format/client-behaviour.md §8).
    @inline(__always)
    func negativeEntry(timeout: Double) -> fuse_entry_param {
        var e = fuse_entry_param()
        e.ino = 0
        e.entry_timeout = timeout
        return e
    }
}
