import CCurl

/// `curl_global_init`, run exactly once per process, by whichever target
/// makes the first handle (the downloader, the image converter or both).
///
/// curl_global_init(3) is not thread-safe and must run before any other libcurl call; a Swift
/// global `let` is initialised once, under `swift_once`, which gives us both properties.
public enum CurlGlobal {
    private static let result: CURLcode = curl_global_init(Int(CURL_GLOBAL_ALL))

    public static func ensureInitialised() {
        precondition(result == CURLE_OK, "curl_global_init failed: \(String(cString: curl_easy_strerror(result)))")
    }
}
