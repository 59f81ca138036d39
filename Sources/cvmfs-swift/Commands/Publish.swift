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
            abstract: "Publish a directory tree as a CernVM-FS repository.",
            discussion: """
                Writes content objects, catalogs (a nested catalog wherever a .cvmfscatalog \
                file is), the certificate, a signed whitelist and a signed manifest into \
                OUTPUT_DIR, which a web server then serves as /cvmfs/<fqrn>. Publishing \
                into a folder that holds an earlier revision makes the next revision and \
                writes only what changed. Missing keys are created in the key directory.
                """)

        @Argument(help: "The directory tree to publish.")
        var source: String

        @Argument(help: "The repository folder to write (created if missing).")
        var output: String

        @Option(help: "Fully qualified repository name, e.g. demo.cvmfs.local.")
        var name: String

        @Option(help: "Directory with the repository keys (<fqrn>.masterkey, .pub, .key, .crt); missing keys are created.")
        var keys: String

        @Option(help: "Content hash algorithm: sha1, rmd160 or shake128.")
        var hash: HashAlgorithm = .sha1

        @Flag(help: "Store file content uncompressed instead of zlib.")
        var noCompression = false

        @Flag(help: "Store every file as one object, without chunking.")
        var noChunking = false

        @Option(help: "Minimum chunk size in bytes (upstream default 4194304).")
        var chunkMin: Int = ChunkingParameters.upstreamDefault.minimum

        @Option(help: "Average chunk size in bytes (upstream default 8388608).")
        var chunkAvg: Int = ChunkingParameters.upstreamDefault.average

        @Option(help: "Maximum chunk size in bytes (upstream default 16777216).")
        var chunkMax: Int = ChunkingParameters.upstreamDefault.maximum

        @Option(help: "Catalog TTL in seconds: how often clients look for a new revision.")
        var ttl: UInt64 = 240

        @Option(help: "Days until the signed whitelist expires.")
        var whitelistDays: Int = 30

        @Option(help: "Worker threads for hashing and compression (default: all cores).")
        var threads: Int = 0

        func validate() throws {
            let chunking = ChunkingParameters(minimum: chunkMin, average: chunkAvg, maximum: chunkMax)
            if let problem = chunking.problem {
                throw ValidationError("--chunk-min/--chunk-avg/--chunk-max: \(problem)")
            }
            if whitelistDays < 1 { throw ValidationError("--whitelist-days must be at least 1") }
        }

        func run() throws {
            var options = PublishOptions(fqrn: name, keyDirectory: keys)
            options.algorithm = hash
            options.compression = noCompression ? .none : .zlib
            options.chunking = ChunkingParameters(minimum: chunkMin, average: chunkAvg, maximum: chunkMax, enabled: !noChunking)
            options.ttl = ttl
            options.whitelistValidityDays = whitelistDays
            options.threads = threads
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
