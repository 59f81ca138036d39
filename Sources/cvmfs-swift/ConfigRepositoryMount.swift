import Foundation
import Glibc
import CVMFSClient
import CVMFSFormat

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
        if let problem = DirectoryPath.create(mountpoint) { return problem }
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let arguments = [executable, "mount", fqrn, mountpoint] + (configDirectory.map { ["--config-dir", $0] } ?? [])
        // A file, not a pipe: the mount's daemon inherits the descriptor and lives on.
        let errors = ChildProcess.unlinkedTemporaryFile()
        defer { if errors >= 0 { close(errors) } }
        let (spawned, pid) = ChildProcess.spawn(executable, arguments: arguments, output: -1, errors: errors)
        guard spawned == 0 else { return "cannot run \(executable): \(errnoText(spawned))" }
        let status = ChildProcess.waitForExit(pid)
        guard status == 0 else {
            var message = ""
            if errors >= 0 {
                lseek(errors, 0, SEEK_SET)
                message = String(decoding: ChildProcess.readToEnd(errors), as: UTF8.self)
            }
            let reason = message.split(separator: "\n").last.map(String.init) ?? "exit code \(status)"
            return "mounting it failed: \(reason)"
        }
        return repository.isMounted ? nil : "mounting it reported success but \(mountpoint) is not a cvmfs2 mount"
    }

    private static func lockFile(_ fqrn: String) -> Int32 {
        let directory = access("/run", W_OK) == 0 ? "/run/cvmfs-swift" : "/tmp/cvmfs-swift"
        mkdir(directory, 0o755)
        let fd = open(directory + "/config-repository.\(fqrn).lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        if fd >= 0 { flock(fd, LOCK_EX) }
        return fd
    }
}
