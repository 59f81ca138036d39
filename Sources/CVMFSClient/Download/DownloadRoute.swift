/// The host and proxy one attempt uses, with the chain generations it saw, so that a failure
/// moves the shared pointers only if nobody moved them since (docs/format/client-behaviour.md §5).
struct DownloadRoute {
    var host: String
    var hostGeneration: UInt64
    var proxy: Proxy
    var proxyGeneration: UInt64
    /// Chain sizes, fixed for the life of a downloader.
    var hostCount: Int
    var proxyCount: Int

    func url(_ path: String) -> String { host + "/" + path }
}
