import ArgumentParser
import CVMFSFormat
import CVMFSClient

/// Options shared by the commands that read a repository without mounting it.
struct RepositoryOptions: ParsableArguments {
    @Argument(help: "The repository: a folder as a web server serves it, or its http(s) URL (http://host/cvmfs/FQRN).")
    var repository: String

    @Option(name: .customLong("key"), help: "Master public key file(s) to trust (PEM); repeat or separate with ':'.")
    var keys: [String] = []

    @Option(help: "Repository name to expect (default: the manifest's own name, which the whitelist must match).")
    var name: String?

    @Option(help: "HTTP proxy for URLs (upstream syntax; default DIRECT).")
    var proxy: String = "DIRECT"

    func validate() throws {
        if keys.isEmpty { throw ValidationError("--key is required: the master public key that signs the repository's whitelist") }
    }

    /// Opens and verifies the repository's signature chain.
    func openReader() throws -> RepositoryReader {
        let paths = keys.flatMap { $0.split(separator: ":").map(String.init) }
        let publicKeys: [RSAPublicKey]
        do {
            publicKeys = try ManifestVerifier.loadPublicKeys(paths: paths)
        } catch {
            throw CommandFailure("\(error)")
        }
        let source: any RepositorySource
        if repository.hasPrefix("http://") || repository.hasPrefix("https://") {
            do {
                source = HTTPSource(downloader: try Downloader(settings: DownloadSettings(hosts: [repository], proxies: proxy)))
            } catch {
                throw CommandFailure("\(error)")
            }
        } else {
            source = FolderSource(root: repository)
        }
        do {
            return try RepositoryReader(source: source, publicKeys: publicKeys, fqrn: name)
        } catch {
            throw CommandFailure("\(repository): \(error)")
        }
    }
}
