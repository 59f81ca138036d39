import Glibc

/// Makes a configuration repository available at a mount point, mounting it when it is not
/// mounted yet; returns why it cannot, or nil once it is there. The `mount` command mounts
/// it with this binary; other readers of the chain may only look.
public typealias ConfigRepositoryMounter = @Sendable (_ fqrn: String, _ mountpoint: String) -> String?

extension ClientConfiguration {
    /// The `etc/cvmfs` folder of the configuration repository that `defaults` (the
    /// repository-independent part of the chain) names for `repository`, or nil when there is
    /// none or it is unavailable and not required; a note for the log in the latter case.
    ///
    /// As upstream (docs/format/client-behaviour.md §2.1): the configuration repository is
    /// `$CVMFS_MOUNT_DIR/$CVMFS_CONFIG_REPOSITORY`, never used for itself; with
    /// `CVMFS_CONFIG_REPO_REQUIRED=yes` a configuration repository that cannot be mounted
    /// refuses the dependent mount.
    static func configRepositoryFolder(for repository: RepositoryName, defaults: ConfigurationParameters,
                                       mounter: ConfigRepositoryMounter?) throws(ConfigurationError) -> (folder: String?, note: String?) {
        guard let name = defaults["CVMFS_CONFIG_REPOSITORY"], !name.isEmpty, name != repository.fqrn else { return (nil, nil) }
        let required = try ParameterReader(defaults).bool("CVMFS_CONFIG_REPO_REQUIRED", default: false)
        let mountpoint = (defaults["CVMFS_MOUNT_DIR"] ?? "/cvmfs") + "/" + name
        let folder = mountpoint + "/etc/cvmfs"
        var problem: String?
        if (try? RepositoryName(validating: name)) == nil {
            problem = "CVMFS_CONFIG_REPOSITORY=\(name) (\(defaults.source(of: "CVMFS_CONFIG_REPOSITORY") ?? "")) is not a repository name"
        } else {
            problem = mounter?(name, mountpoint)
            if problem == nil && !isDirectory(folder) { problem = "\(folder) does not exist" }
        }
        guard let problem else { return (folder, nil) }
        if required { throw .configRepositoryUnavailable(fqrn: name, mountpoint: mountpoint, reason: problem) }
        return (nil, "configuration repository \(name) is not available at \(mountpoint) (\(problem)); using the local configuration only")
    }

    private static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }
}
