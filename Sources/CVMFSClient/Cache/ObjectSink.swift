/// Where a downloader streams an object's bytes as served.
///
/// Same shape as the downloader's `DownloadSink`: a retry calls `reset()` and
/// replays the bytes from the start; `finish()` ends one attempt and throws if
/// the bytes are bad, so the downloader can retry from another host.
public protocol ObjectSink: DownloadSink {}
