import ArgumentParser
import CVMFSClient

extension CVMFSSwift {
    struct Probe: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "probe",
            abstract: "Check that repositories are mounted (like cvmfs_config probe).",
            discussion: "Prints 'Probing /cvmfs/<fqrn>... OK' or 'Failed!' for each repository (default: CVMFS_REPOSITORIES) and exits 1 if any failed.")

        @Argument(help: "Repositories to probe (default: CVMFS_REPOSITORIES from the configuration).")
        var repositories: [String] = []

        @Option(help: "Configuration directory (default: CVMFS_CONFIG_DIR or /etc/cvmfs).")
        var configDir: String?

        @Option(help: "Mount directory (default: CVMFS_MOUNT_DIR, /cvmfs).")
        var mountDir: String?

        func run() throws {
            var names = repositories
            var base = mountDir
            var domain = "cern.ch"
            do {
                // The repository-independent part of the chain: default.conf, default.d, default.local.
                let chain = ConfigurationChain(repository: nil, directory: configDir)
                if let defaults = try? ConfigurationParser().parse(chain) {
                    if names.isEmpty {
                        names = (defaults["CVMFS_REPOSITORIES"] ?? "").split(separator: ",").map { String($0).trimmingSpaces() }.filter { !$0.isEmpty }
                    }
                    if base == nil { base = defaults["CVMFS_MOUNT_DIR"] }
                    domain = defaults["CVMFS_DEFAULT_DOMAIN"] ?? domain
                }
            }
            if names.isEmpty { throw CommandFailure("no repositories given and CVMFS_REPOSITORIES is empty") }
            var failed = false
            for name in names {
                let fqrn = name.contains(".") ? name : name + "." + domain
                let repository = MountedRepository(fqrn: fqrn, mountpoint: (base ?? "/cvmfs") + "/" + fqrn)
                let ok = repository.isMounted && repository.attribute("fqrn") == fqrn
                print("Probing \(repository.mountpoint)... \(ok ? "OK" : "Failed!")")
                failed = failed || !ok
            }
            if failed { throw CommandFailure("probe failed", exitCode: 1) }
        }
    }
}

extension String {
    func trimmingSpaces() -> String {
        var text = Substring(self)
        while text.first == " " || text.first == "\t" { text.removeFirst() }
        while text.last == " " || text.last == "\t" { text.removeLast() }
        return String(text)
    }
}
