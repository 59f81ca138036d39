/// What a successful fetch did; the fetch's view of `user.host`, `user.proxy` and `user.speed`.
public struct DownloadReport: Sendable, Equatable {
    /// The full URL that finally served the body.
    public var url: String
    /// The base URL of the host that served it.
    public var host: String
    /// The proxy used (`.direct` for none).
    public var proxy: Proxy
    /// Body bytes of the successful attempt.
    public var bytes: Int64
    /// Attempts beyond the first (same-URL retries plus failovers).
    public var retries: Int
    /// Wall time of the whole fetch, backoffs included.
    public var duration: Duration
}
