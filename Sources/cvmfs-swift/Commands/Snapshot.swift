import ArgumentParser
import Glibc
import CVMFSFormat
import CVMFSPublish
import CVMFSReplica

extension CVMFSSwift {
    struct Snapshot: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "snapshot",
            abstract: "Make or refresh a stratum 1 replica of a repository over HTTP.",
            discussion: """
                Verifies the source's manifest, whitelist and certificate with the master key, \
                then fetches every catalog and object of the new revision and of every tagged \
                revision that DIR lacks, concurrently, each verified before it is stored, and \
                replaces DIR/.cvmfspublished last. A web server can serve DIR all along. A \
                killed run resumes where it stopped; a second run fetches only what is new; a \
                source older than the replica is refused. Progress goes to a terminal only.
                """)

        @Argument(help: "The source repository's URL, e.g. http://stratum0/cvmfs/demo.cvmfs.local.")
        var url: String

        @Argument(help: "The replica folder (created if missing).")
        var folder: String

        @Option(name: .customLong("key"), help: "A master public key the whitelist must be signed by (repeatable).")
        var keys: [String]

        @Option(help: "Repository name; default: the URL's last path component.")
        var name: String?

        @Option(help: "HTTP proxy for the downloads, or DIRECT.")
        var proxy: String = "DIRECT"

        @Option(help: "Concurrent downloads.")
        var threads: Int = 16

        @Option(help: "Seconds before a stalled download fails over or fails.")
        var timeout: Int = 10

        @Flag(help: "No progress line and no summary.")
        var quiet = false

        @Flag(help: "After the snapshot, remove objects no retained revision of the replica needs.")
        var gc = false

        @OptionGroup var retention: RetentionOptions

        func run() throws {
            let trimmed = url.hasSuffix("/") ? String(url.dropLast()) : url
            let fqrn = name ?? String(trimmed.split(separator: "/").last ?? "")
            var options = SnapshotOptions(url: trimmed, folder: folder, fqrn: fqrn, publicKeyPaths: keys)
            options.proxy = proxy
            options.threads = threads
            options.timeoutSeconds = timeout
            options.showProgress = !quiet
            let report: SnapshotReport
            do {
                report = try Replicator(options: options).run()
            } catch {
                throw CommandFailure("snapshot of \(fqrn) into \(folder) failed, the replica keeps its previous revision: \(error)")
            }
            if !quiet {
                if report.updated {
                    let mb = Double(report.bytesFetched) / 1e6
                    print("snapshot \(fqrn) revision \(report.revision): \(report.catalogsFetched) catalogs, \(report.objectsFetched) objects, \(String(format2: mb)) MB in \(String(format2: report.seconds)) s (\(String(format2: mb / max(report.seconds, 1e-9))) MB/s, \(Int(Double(report.objectsFetched) / max(report.seconds, 1e-9))) objects/s); \(report.objectsPresent) objects already present")
                } else {
                    print("snapshot \(fqrn): revision \(report.revision) is up to date")
                }
            }
            guard gc else { return }
            do {
                guard let bytes = SmallFile.read(folder + "/.cvmfspublished", limit: 1 << 20) else {
                    throw CommandFailure("gc: \(folder)/.cvmfspublished: \(errnoText())")
                }
                let manifest = try Manifest(parsing: try Letter(parsing: bytes, document: .manifest).payload)
                let collected = try GarbageCollector(folder: folder, policy: retention.policy).collect(manifest: manifest)
                if !quiet { print("gc \(fqrn): \(collected.summary)") }
            } catch let failure as CommandFailure {
                throw failure
            } catch {
                throw CommandFailure("gc of the replica \(folder) failed: \(error)")
            }
        }
    }
}
