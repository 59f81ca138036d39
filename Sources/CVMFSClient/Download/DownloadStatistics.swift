/// Counters over all fetches of one `Downloader`, as a snapshot value.
///
/// These feed `user.ndownload`, `user.rx`, `user.speed` and `cvmfs_talk internal affairs`.
public struct DownloadStatistics: Sendable, Equatable {
    /// Fetches that succeeded.
    public var downloads: Int = 0
    /// Body bytes of successful attempts.
    public var bytes: Int64 = 0
    /// Attempts that failed for any reason (each retry counts).
    public var failedRequests: Int = 0
    /// Fetches that failed for good.
    public var failedDownloads: Int = 0
    /// Same-URL retries (docs/format/client-behaviour.md §5 steps 1 and 2).
    public var retries: Int = 0
    /// Times this downloader moved the shared current host.
    public var hostSwitches: Int = 0
    /// Times this downloader moved the shared current proxy.
    public var proxySwitches: Int = 0
    /// Time spent inside libcurl transfers (not backoff sleeps).
    public var transferTime: Duration = .zero

    public init() {}

    /// Average speed in KiB/s over the transfer time, as `user.speed` reports it.
    public var kibPerSecond: Double {
        let seconds = Double(transferTime.components.seconds) + Double(transferTime.components.attoseconds) / 1e18
        return seconds > 0 ? Double(bytes) / 1024 / seconds : 0
    }

    mutating func noteDownload(bytes: Int64, took elapsed: Duration) {
        downloads += 1
        self.bytes += bytes
        transferTime += elapsed
    }

    mutating func noteFailedRequest(took elapsed: Duration) {
        failedRequests += 1
        transferTime += elapsed
    }
}
