import CVMFSClient
import CVMFSFormat

/// One repository served on a mount point: the verified session, its FUSE
/// mount and its control socket, wired together, and torn down in order
/// when the kernel ends the mount (background work first, then the cache).
/// The `mount` command is this plus argument parsing and daemon start-up.
public final class RepositoryMount {
    public let session: MountSession
    private let fuse: FuseMount
    private let talk: TalkServer

    /// Verifies the repository and prepares the mount; nothing is mounted
    /// until `run`. Throws with upstream's loader code (`MountError.loaderCode`).
    public init(configuration: ClientConfiguration, mountpoint: String, options: FuseMountOptions) throws(MountError) {
        MallocArenas.limitForDaemon()
        // The limit is the daemon's, set before the session sizes its open-file budget by it.
        if let count = configuration.nfiles, let problem = OpenFileLimit.set(count) { Log.notice("\(configuration.fqrn): \(problem)") }
        session = try MountSession(configuration: configuration)
        fuse = FuseMount(core: session.fileSystem, mountPoint: mountpoint, options: options)
        session.mountpoint = mountpoint
        session.setKernelInvalidator { [fuse] in fuse.invalidateEntries($0) }
        _ = DirectoryPath.create(configuration.workspace, mode: 0o700)
        let session = self.session
        talk = try TalkServer(path: MountSession.talkSocketPath(configuration)) { session.answer($0) }
    }

    /// Mounts and serves until the mount ends; `onMounted` runs once the
    /// kernel has the mount.
    public func run(onMounted: () -> Void) throws(MountError) {
        defer {
            talk.remove()
            session.shutDown()
        }
        session.startRevisionTimer()
        do {
            _ = try fuse.run(onMounted: onMounted)
        } catch {
            throw .fuse("\(error)")
        }
    }
}
