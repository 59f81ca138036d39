import ArgumentParser
import CVMFSClient

extension CVMFSSwift {
    struct ShowConfig: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "showconfig",
            abstract: "Print a repository's effective parameters and the file that set each (like cvmfs_config showconfig).",
            discussion: "Reads the same configuration chain as mount. Each line is NAME=VALUE, followed by '# from FILE' for values a file set; -s leaves out the parameters that are empty.")

        @Flag(name: .short, help: "Only the parameters with a value.")
        var s = false

        @Argument(help: "Repository name (a short name gets CVMFS_DEFAULT_DOMAIN).")
        var repository: String

        @Option(help: "Configuration directory (default: CVMFS_CONFIG_DIR or /etc/cvmfs).")
        var configDir: String?

        func run() throws {
            let parameters: ConfigurationParameters
            let fqrn: String
            do {
                let loaded = try ClientConfiguration.loadParameters(
                    repository: repository, configDirectory: configDir,
                    mounter: ConfigRepositoryMount.mounter(configDirectory: configDir))
                parameters = loaded.parameters
                fqrn = loaded.repository.fqrn
            } catch {
                throw CommandFailure("\(error)", exitCode: 1)
            }
            print("CVMFS_REPOSITORY_NAME=\(fqrn)")
            for parameter in parameters.all where parameter.name != "CVMFS_REPOSITORY_NAME" {
                if s && parameter.value.isEmpty { continue }
                let line = "\(parameter.name)=\(parameter.value)"
                print(parameter.source.isEmpty ? line : line.padding(toLength: max(line.count, 40)) + "    # from \(parameter.source)")
            }
        }
    }
}

private extension String {
    func padding(toLength length: Int) -> String {
        count >= length ? self : self + String(repeating: " ", count: length - count)
    }
}
