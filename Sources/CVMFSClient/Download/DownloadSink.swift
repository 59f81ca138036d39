/// Receives a download's body as it arrives.
///
/// The downloader may try the same object several times (retries, host and proxy failover), so
/// it calls `reset()` before every attempt but the first; a sink must then forget everything it
/// received. `finish()` runs after a complete 2xx transfer and is where a caller checks the
/// content hash (typically through `ObjectDecoder.finish`). A throw from `write` or `finish`
/// counts as *bad data* (docs/format/client-behaviour.md §5): the downloader retries once with no-cache
/// headers, then fails over to the next host; unless the error is a `LocalSinkFailure` that
/// says `isLocal`, which ends the fetch at once.
///
/// Sinks are classes because the transfer callbacks hold a pointer to them for the duration of a
/// fetch; one sink serves one fetch at a time.
public protocol DownloadSink: AnyObject {
    /// Consumes the next bytes of the body. Called on the fetching thread only.
    func write(_ bytes: UnsafeRawBufferPointer) throws
    /// Forgets all bytes written so far; called before each retry.
    func reset() throws
    /// Validates the complete body.
    func finish() throws
}

/// An error a sink throws that may be about this machine rather than the bytes.
public protocol LocalSinkFailure: Error {
    /// The disk or the quota refused the bytes: no server's copy would do better.
    var isLocal: Bool { get }
}
