import CVMFSClient
@testable import CVMFSFuse
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A real FUSE mount of a core in a temporary directory, served on a
/// background thread. `unmount()` is always called (from a `defer` in each
/// test) and leaves no mount behind even when expectations failed.
final class TestMount<Core: FileSystemCore>: Sendable {
    let core: Core
    let mount: FuseMount
    let directory: String
    private let finished = DispatchSemaphore(value: 0)
    private let outcome = LoopOutcome()

    init(core: Core) throws {
        self.core = core
        var template = Array("/tmp/cvmfs-fuse-test-XXXXXX".utf8CString)
        guard let path = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw POSIXError(.init(rawValue: errno) ?? .EIO)
        }
        directory = String(cString: path)
        var options = FuseMountOptions()
        options.subtype = "cvmfs-test"
        // The test process keeps its own SIGINT/SIGTERM behaviour.
        options.installSignalHandlers = false
        mount = FuseMount(core: core, mountPoint: directory, options: options)

        let mounted = DispatchSemaphore(value: 0)
        let thread = Thread { [mount, outcome, finished] in
            let result = Result { () throws(FuseMountError) in try mount.run(onMounted: { mounted.signal() }) }
            outcome.value.withLock { $0 = result }
            mounted.signal()
            finished.signal()
        }
        thread.start()
        mounted.wait()
        if case .failure(let error)? = outcome.value.withLock({ $0 }) { throw error }
    }

    func path(_ name: String) -> String { directory + "/" + name }

    var isMounted: Bool { MountTable.paths().contains(directory) }

    /// Waits for `run` to return; nil on timeout.
    func waitForLoop(seconds: Double = 10) -> Result<Int32, FuseMountError>? {
        guard finished.wait(timeout: .now() + seconds) == .success else { return nil }
        finished.signal()
        return outcome.value.withLock { $0 }
    }

    /// Unmounts through the kernel (the loop sees the connection end), falls
    /// back to a lazy unmount and `requestExit`, then removes the directory.
    func unmount() {
        if isMounted && umount2(directory, 0) != 0 {
            _ = umount2(directory, Int32(MNT_DETACH))
        }
        if waitForLoop(seconds: 10) == nil {
            mount.requestExit()
            _ = waitForLoop(seconds: 10)
        }
        rmdir(directory)
    }
}

extension TestMount where Core == InMemoryCore {
    convenience init() throws { try self.init(core: InMemoryCore()) }

    /// Asks the kernel to drop unused dentries and inodes, which makes it send
    /// FORGET for them while we still serve; then waits until the core's
    /// lookup counts are back to zero. False if not root or counts stay up.
    func dropKernelCachesAndWaitForForgets() -> Bool {
        let fd = Glibc.open("/proc/sys/vm/drop_caches", O_WRONLY)
        guard fd >= 0 else { return false }
        _ = Glibc.write(fd, "2\n", 2)
        close(fd)
        for _ in 0..<100 {
            if core.outstandingLookups.isEmpty { return true }
            usleep(50_000)
        }
        return core.outstandingLookups.isEmpty
    }
}

/// What `FuseMount.run` returned, set once by the loop thread.
final class LoopOutcome: Sendable {
    let value = Mutex<Result<Int32, FuseMountError>?>(nil)
}

/// What /proc/mounts says.
enum MountTable {
    static func paths() -> [String] {
        guard let text = try? String(contentsOfFile: "/proc/mounts", encoding: .utf8) else { return [] }
        return text.split(separator: "\n").map { String($0.split(separator: " ")[1]) }
    }

    static func line(for path: String) -> String? {
        guard let text = try? String(contentsOfFile: "/proc/mounts", encoding: .utf8) else { return nil }
        return text.split(separator: "\n").first { $0.split(separator: " ")[1] == path }.map(String.init)
    }
}
