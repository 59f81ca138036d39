/// Where a downloader streams an object's bytes as served.
///
/// Same shape as the downloader's `DownloadSink`: a retry calls `reset()` and
/// replays the bytes from the start; `finish()` ends one attempt and throws if
/// the bytes are bad, so the downloader can retry from another host.
public protocol ObjectSink: AnyObject {
    /// Drops everything written so far (before a retry).
    func reset() throws
    /// Takes the next bytes as served (compressed or plain).
    func write(_ bytes: UnsafeRawBufferPointer) throws
    /// Ends the attempt and verifies what was written.
    func finish() throws
}
