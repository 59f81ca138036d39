import ArgumentParser
import CVMFSFormat

extension CVMFSSwift {
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Check a repository's signature chain and every object's hash.",
            discussion: """
                Verifies master key → whitelist (signature, expiry, name) → certificate \
                fingerprint → manifest signature, then fetches every catalog and object \
                reachable from the root, checks its content hash, inflates it to the end \
                and compares its size with the catalog. Every problem is reported with \
                the path and object; the exit code is 1 if there was any.
                """)

        @OptionGroup var repository: RepositoryOptions

        func run() throws {
            let reader = try repository.openReader()
            let manifest = reader.manifest
            print("\(reader.fqrn): signature chain OK (revision \(manifest.revision), root catalog \(manifest.rootCatalog))")
            let report = reader.verifyAll()
            print("checked \(report.catalogs) catalogs, \(report.entries) entries, \(report.objects) objects (\(report.bytes) bytes)")
            for problem in report.problems { printError("problem: \(problem)") }
            if !report.problems.isEmpty {
                throw CommandFailure("\(report.problems.count) problem(s) found in \(repository.repository)")
            }
            print("all objects OK")
        }
    }
}
