import Foundation
import Glibc
import CVMFSClient

/// Mounts a configuration repository (`CVMFS_CONFIG_REPOSITORY`) before the repository that
/// reads its configuration: once per machine, at `$CVMFS_MOUNT_DIR/<fqrn>`, by this binary's
/// own `mount`, so it stays up for every later mount that needs it (as autofs keeps upstream's).
enum ConfigRepositoryMount {
    static func mounter(configDirectory: String?) -> ConfigRepositoryMounter {
        { fqrn, mountpoint in ensureMounted(fqrn: fqrn, mountpoint: mountpoint, configDirectory: configDirectory) }
    }

    /// Nil once the repository is mounted at `mountpoint`, else why it is not.
    static func ensureMounted(fqrn: String, mountpoint: String, configDirectory: String?) -> String? {
        let repository = MountedRepository(fqrn: fqrn, mountpoint: mountpoint)
        if repository.isMounted { return nil }
        // Two dependent mounts starting together must not both mount it.
        let lock = lockFile(fqrn)
        defer { if lock >= 0 { close(lock) } }
        if repository.isMounted { return nil }
        if let problem = MountSession.makeDirectories(mountpoint, mode: 0o755) { return problem }
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let arguments = [executable, "mount", fqrn, mountpoint] + (configDirectory.map { ["--config-dir", $0] } ?? [])
        // A file, not a pipe: the mount's daemon inherits the descriptor and lives on.
        let errorPath = "/tmp/cvmfs-swift-config-mount.\(getpid()).\(fqrn).err"
        defer { unlink(errorPath) }
        let status: Int32
        switch run(arguments, stderrPath: errorPath) {
        case .failure(let problem): return problem.description
        case .success(let code): status = code
        }
        guard status == 0 else {
            let message = (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
            let reason = message.split(separator: "\n").last.map(String.init) ?? "exit code \(status)"
            return "mounting it failed: \(reason)"
        }
        return repository.isMounted ? nil : "mounting it reported success but \(mountpoint) is not a cvmfs2 mount"
    }

    /// Runs `arguments` with stdin and stdout on /dev/null and stderr into `stderrPath`; its exit code.
    private static func run(_ arguments: [String], stderrPath: String) -> Result<Int32, MountProblem> {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, arguments[0], &actions, nil, &argv, environ)
        guard spawned == 0 else { return .failure(MountProblem("cannot run \(arguments[0]): \(String(cString: strerror(spawned)))")) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return .success((status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f))
    }

    struct MountProblem: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    private static func lockFile(_ fqrn: String) -> Int32 {
        let directory = access("/run", W_OK) == 0 ? "/run/cvmfs-swift" : "/tmp/cvmfs-swift"
        mkdir(directory, 0o755)
        let fd = open(directory + "/config-repository.\(fqrn).lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        if fd >= 0 { flock(fd, LOCK_EX) }
        return fd
    }
}
