import ArgumentParser
import CVMFSFormat
import CVMFSPublish

extension CVMFSSwift {
    struct GC: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "gc",
            abstract: "Remove the objects of old revisions from a repository folder.",
            discussion: """
                Keeps the newest revisions (--keep-revisions, --keep-newer-than) and every \
                revision a tag names, and deletes every object in data/ none of them needs. \
                The reflog forgets the removed root catalogs and the manifest is signed again \
                for it. Run it when no publication writes into the folder.
                """)

        @Argument(help: "The repository folder (a stratum 0 written by publish).")
        var folder: String

        @Option(help: "Fully qualified repository name.")
        var name: String

        @Option(help: "Directory with the repository keys, to sign the manifest again.")
        var keys: String

        @OptionGroup var retention: RetentionOptions

        @Flag(help: "Only report what would be removed.")
        var dryRun = false

        func run() throws {
            do {
                let keys = try RepositoryKeys(directory: keys, fqrn: name)
                guard let bytes = SmallFile.read(folder + "/.cvmfspublished", limit: 1 << 20) else {
                    throw CommandFailure("gc: \(folder)/.cvmfspublished: \(errnoText())")
                }
                let letter = try Letter(parsing: bytes, document: .manifest)
                guard try keys.certificate.publicKey().verifySHA1(signature: letter.signature, message: letter.hashLine) else {
                    throw CommandFailure("gc: \(folder)/.cvmfspublished is not signed by the certificate in \(self.keys)")
                }
                let manifest = try Manifest(parsing: letter.payload)
                guard manifest.fqrn == name else { throw CommandFailure("gc: \(folder) holds \(manifest.fqrn ?? "?"), not \(name)") }
                let report = try GarbageCollector(folder: folder, policy: retention.policy)
                    .collect(manifest: manifest, dryRun: dryRun, resign: (keys, manifest.rootCatalog.algorithm))
                print("gc \(name)\(dryRun ? " (dry run)" : ""): \(report.summary)")
            } catch let failure as CommandFailure {
                throw failure
            } catch {
                throw CommandFailure("gc failed: \(error)")
            }
        }
    }
}
