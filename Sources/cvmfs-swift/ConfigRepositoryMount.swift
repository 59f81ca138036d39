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
        if let problem = makeMountpoint(mountpoint) { return problem }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
                                    ?? CommandLine.arguments[0])
        process.arguments = ["mount", fqrn, mountpoint] + (configDirectory.map { ["--config-dir", $0] } ?? [])
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return "cannot run \(process.executableURL?.path ?? "cvmfs-swift"): \(error)"
        }
        // The mount's daemon points its stderr at /dev/null once mounted, so this ends.
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let reason = message.split(separator: "\n").last.map(String.init) ?? "exit code \(process.terminationStatus)"
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

    private static func makeMountpoint(_ path: String) -> String? {
        var prefix = ""
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                return "cannot create \(prefix): \(String(cString: strerror(errno)))"
            }
        }
        return nil
    }
}
