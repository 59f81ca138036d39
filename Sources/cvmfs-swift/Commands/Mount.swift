import ArgumentParser
import Glibc
import CVMFSClient
import CVMFSFuse

extension CVMFSSwift {
    struct Mount: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "mount",
            abstract: "Mount a CernVM-FS repository (what mount -t cvmfs runs).",
            discussion: """
                Reads the configuration chain for REPO (default.conf, default.d, default.local, \
                domain.d, config.d from /etc/cvmfs or CVMFS_CONFIG_DIR; or only the files given \
                with -o config=FILE[:FILE...]), verifies the repository's signature chain and \
                root catalog, and serves it read-only at MOUNTPOINT. Without -f the command \
                returns once the mount is up (exit 0) or failed (exit 1 for configuration \
                errors, upstream's loader codes otherwise: 15 signature, 16 catalog, 9 cache, \
                4 mount).
                """)

        @Argument(help: "Repository name (a short name gets CVMFS_DEFAULT_DOMAIN).")
        var repository: String

        @Argument(help: "Where to mount, usually /cvmfs/<fqrn>.")
        var mountpoint: String

        @Option(name: .short, help: "Comma-separated options: config=FILE[:FILE...] and FUSE mount options.")
        var o: [String] = []

        @Flag(name: .short, help: "Stay in the foreground.")
        var f = false

        @Option(help: "Configuration directory (default: CVMFS_CONFIG_DIR or /etc/cvmfs).")
        var configDir: String?

        func run() throws {
            let options = MountOptionList(o, ignoring: Self.ignoredOptions)
            let configuration: ClientConfiguration
            do {
                configuration = try ClientConfiguration.load(
                    repository: repository, configDirectory: configDir, explicitFiles: options.configFiles,
                    mounter: ConfigRepositoryMount.mounter(configDirectory: configDir))
            } catch {
                throw CommandFailure("\(error)", exitCode: 1)
            }
            var readiness: DaemonReadiness?
            if !f {
                do {
                    readiness = try FuseDaemon.daemonize()
                } catch {
                    throw CommandFailure("cannot start the mount process: \(error)", exitCode: 4)
                }
            }
            // In the background the parent waits for this outcome; in the foreground it is ours.
            func fail(_ error: MountError) -> CommandFailure {
                let message = "\(configuration.fqrn): \(error)"
                if let readiness {
                    readiness.failed("cvmfs-swift: " + message, exitCode: error.loaderCode)
                    Glibc.exit(error.loaderCode)
                }
                return CommandFailure(message, exitCode: error.loaderCode)
            }
            do {
                let mount = try RepositoryMount(configuration: configuration, mountpoint: mountpoint,
                                                options: fuseMountOptions(configuration, options))
                mount.session.setConfigurationSource(MountSession.ConfigurationSource(
                    repository: repository, configDirectory: configDir, explicitFiles: options.configFiles))
                try mount.run {
                    if let readiness {
                        readiness.mounted(errorLog: configuration.debugLog)
                    } else {
                        print("\(configuration.fqrn) mounted on \(mountpoint) (revision \(mount.session.manifest.revision))")
                    }
                }
            } catch {
                throw fail(error)
            }
        }

        private func fuseMountOptions(_ configuration: ClientConfiguration, _ list: MountOptionList) -> FuseMountOptions {
            var options = FuseMountOptions()
            options.fsName = "cvmfs2"
            options.subtype = "cvmfs2"
            options.allowOther = getuid() == 0
            options.defaultPermissions = configuration.checkPermissions
            // Read-only is FuseMountOptions' own; nodev as upstream's helper mounts.
            options.extraOptions = ["nodev"] + list.fuseOptions
            options.debug = list.debug
            return options
        }

        /// Options the upstream mount helper passes to cvmfs2 that mean
        /// nothing to this client.
        static let ignoredOptions = ["system_mount", "fsname", "grab_mountpoint", "uid", "gid", "allow_other", "libfuse", "disable_watchdog", "cvmfs_suid", "ro", "nodev", "auto", "noauto", "_netdev", "remount", "rw", "user", "nouser", "defaults", "suid", "nosuid", "dev", "exec", "noexec"]
    }
}
