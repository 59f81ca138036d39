import ArgumentParser
import CVMFSFormat
import CVMFSPublish

/// How a repository is written: shared by `publish` and `convert`.
struct WritingOptions: ParsableArguments {
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

    /// Publisher options for repository `fqrn`.
    func publishOptions(fqrn: String) -> PublishOptions {
        var options = PublishOptions(fqrn: fqrn, keyDirectory: keys)
        options.algorithm = hash
        options.compression = noCompression ? .none : .zlib
        options.chunking = ChunkingParameters(minimum: chunkMin, average: chunkAvg, maximum: chunkMax, enabled: !noChunking)
        options.ttl = ttl
        options.whitelistValidityDays = whitelistDays
        options.threads = threads
        return options
    }
}
