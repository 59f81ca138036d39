import ArgumentParser
import CVMFSFormat
import CVMFSPublish

extension HashAlgorithm: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public static var allValueStrings: [String] { allCases.map(\.description) }
}

extension CVMFSSwift {
    struct Publish: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "publish",
            abstract: "Publish a directory tree as a CernVM-FS repository.",
            discussion: """
                Writes content objects, catalogs (a nested catalog wherever a .cvmfscatalog \
                file is), the certificate, a signed whitelist and a signed manifest into \
                OUTPUT_DIR, which a web server then serves as /cvmfs/<fqrn>. Publishing \
                into a folder that holds an earlier revision makes the next revision and \
                writes only what changed. Missing keys are created in the key directory. \
                Every publication also updates the tag history (trunk, trunk-previous and \
                --tag names), the reflog /.cvmfsreflog and the /.cvmfs_master_replica marker \
                that stratum 1 replication follows.
                """)

        @Argument(help: "The directory tree to publish.")
        var source: String

        @Argument(help: "The repository folder to write (created if missing).")
        var output: String

        @Option(help: "Fully qualified repository name, e.g. demo.cvmfs.local.")
        var name: String

        @OptionGroup var writing: WritingOptions

        @Option(name: .customLong("profile"), help: ArgumentHelp(
            "A start-up profile for a directory (repeatable): PATH relative to the repository root, FILE from `profile record`.",
            valueName: "PATH=FILE"))
        var profiles: [String] = []

        @Option(name: .customLong("tag"), help: ArgumentHelp(
            "A name for the new revision in the history database (repeatable); a client mounts it with CVMFS_REPOSITORY_TAG. trunk and trunk-previous always follow the newest revisions.",
            valueName: "NAME"))
        var tags: [String] = []

        @Option(help: "The description stored with --tag.")
        var tagDescription: String = ""

        func validate() throws {
            for profile in profiles where !profile.contains("=") {
                throw ValidationError("--profile \(profile): expected PATH=FILE")
            }
        }

        func run() throws {
            var options = writing.publishOptions(fqrn: name)
            options.tags = tags
            options.tagDescription = tagDescription
            options.profiles = profiles.map { argument in
                let split = argument.firstIndex(of: "=")!
                return ProfileSource(directory: String(argument[..<split]), file: String(argument[argument.index(after: split)...]))
            }
            do {
                let report = try Publisher(options: options).publish(source: source, output: output)
                let mb = Double(report.bytesRead) / 1e6
                print("published \(name) revision \(report.revision): root catalog \(report.rootCatalog)")
                print("  \(report.entries) entries, \(report.regularFiles) files, \(String(format2: mb)) MB read in \(String(format2: report.seconds)) s (\(String(format2: mb / max(report.seconds, 1e-9))) MB/s)")
                print("  objects: \(report.objectsWritten) written (\(report.objectBytesWritten) bytes), \(report.objectsReused) already present; catalogs: \(report.catalogsWritten) written, \(report.catalogsReused) unchanged")
            } catch {
                throw CommandFailure("publish failed: \(error)")
            }
        }
    }
}
