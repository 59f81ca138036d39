import CCurl

/// `curl_global_init`, run exactly once per process.
///
/// curl_global_init(3) is not thread-safe and must run before any other libcurl call; a Swift
/// global `let` is initialised once, under `swift_once`, which gives us both properties.
enum CurlGlobal {
    private static let result: CURLcode = curl_global_init(Int(CURL_GLOBAL_ALL))

    static func ensureInitialised() {
        precondition(result == CURLE_OK, "curl_global_init failed: \(String(cString: curl_easy_strerror(result)))")
    }
}
