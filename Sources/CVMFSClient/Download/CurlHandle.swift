import CCurl

/// One libcurl easy handle with the options that never change between requests.
///
/// Handles live in `Downloader`'s pool. Keeping a handle alive keeps its connection cache, so
/// consecutive requests from the pool reuse TCP connections (`Connection: Keep-Alive`).
///
/// `@unchecked Sendable`: a handle is used by one thread at a time. It is only reachable through
/// the pool `Mutex` while idle, and `Downloader.fetch` owns it exclusively between taking it out
/// of the pool and putting it back.
final class CurlHandle: @unchecked Sendable {
    let easy: UnsafeMutableRawPointer
    /// Headers of a normal request (repository-layout.md §3.4). The empty `Pragma:` removes the
    /// `Pragma: no-cache` libcurl would add when a proxy is used, so proxies may cache objects.
    private let normalHeaders: UnsafeMutablePointer<curl_slist>
    /// Headers of the re-fetch after bad data: ask every cache on the path for a fresh copy.
    private let noCacheHeaders: UnsafeMutablePointer<curl_slist>
    /// `CURLOPT_ERRORBUFFER`: libcurl's detailed message for the last failure.
    private let errorBuffer: UnsafeMutablePointer<CChar>

    init(share: CurlShare, settings: DownloadSettings) throws(DownloadConfigurationError) {
        CurlGlobal.ensureInitialised()
        guard let easy = curl_easy_init() else { throw .curlSetup("curl_easy_init returned NULL") }
        self.easy = easy
        normalHeaders = Self.list(["Connection: Keep-Alive", "Pragma:"])
        noCacheHeaders = Self.list(["Connection: Keep-Alive", "Pragma: no-cache", "Cache-Control: no-cache"])
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        var codes: [CURLcode] = []
        // Signals and threads do not mix; with NOSIGNAL libcurl never uses SIGALRM for time-outs.
        codes.append(cvmfs_curl_setopt_long(easy, CURLOPT_NOSIGNAL, 1))
        codes.append(cvmfs_curl_setopt_ptr(easy, CURLOPT_SHARE, UnsafeRawPointer(share.share)))
        codes.append(cvmfs_curl_setopt_ptr(easy, CURLOPT_ERRORBUFFER, errorBuffer))
        codes.append(cvmfs_curl_setopt_long(easy, CURLOPT_HTTPGET, 1))
        codes.append(cvmfs_curl_setopt_ptr(easy, CURLOPT_USERAGENT, settings.userAgent))
        codes.append(cvmfs_curl_setopt_long(easy, CURLOPT_LOW_SPEED_LIMIT, settings.lowSpeedLimit))
        codes.append(cvmfs_curl_setopt_long(easy, CURLOPT_FOLLOWLOCATION, settings.followRedirects ? 1 : 0))
        codes.append(cvmfs_curl_setopt_long(easy, CURLOPT_MAXREDIRS, 4))
        // 512 KiB receive buffer (libcurl's maximum is 10 MiB, default 16 KiB):
        // one recv, one hash update, one inflate call and one pwrite per 512 KiB
        // instead of per 16 KiB. Syscalls dominate a cold read otherwise.
        codes.append(cvmfs_curl_setopt_long(easy, CURLOPT_BUFFERSIZE, 512 * 1024))
        codes.append(cvmfs_curl_setopt_write(easy, CURLOPT_WRITEFUNCTION) { data, size, count, user in
            let context = Unmanaged<TransferContext>.fromOpaque(user!).takeUnretainedValue()
            return context.receive(UnsafeRawBufferPointer(start: data, count: size * count))
        })
        codes.append(cvmfs_curl_setopt_write(easy, CURLOPT_HEADERFUNCTION) { data, size, count, user in
            let context = Unmanaged<TransferContext>.fromOpaque(user!).takeUnretainedValue()
            context.header(UnsafeRawBufferPointer(start: data, count: size * count))
            return size * count
        })
        if let bad = codes.first(where: { $0 != CURLE_OK }) {
            throw .curlSetup("curl_easy_setopt: " + CurlCode(bad).message)
        }
    }

    deinit {
        curl_easy_cleanup(easy)
        curl_slist_free_all(normalHeaders)
        curl_slist_free_all(noCacheHeaders)
        errorBuffer.deallocate()
    }

    private static func list(_ lines: [String]) -> UnsafeMutablePointer<curl_slist> {
        var head: UnsafeMutablePointer<curl_slist>?
        for line in lines {
            guard let next = curl_slist_append(head, line) else { fatalError("curl_slist_append: out of memory") }
            head = next
        }
        return head!
    }

    /// Runs one GET. The per-request options are set every time because a handle serves
    /// requests to different hosts and proxies.
    func perform(url: String, proxy: Proxy, timeoutSeconds: Int, noCache: Bool, context: TransferContext) -> CurlCode {
        errorBuffer[0] = 0
        let opaque = Unmanaged.passUnretained(context).toOpaque()
        var codes: [CURLcode] = []
        codes.append(cvmfs_curl_setopt_ptr(easy, CURLOPT_URL, url))
        codes.append(cvmfs_curl_setopt_ptr(easy, CURLOPT_PROXY, proxy.curlValue))
        codes.append(cvmfs_curl_setopt_long(easy, CURLOPT_CONNECTTIMEOUT, timeoutSeconds))
        codes.append(cvmfs_curl_setopt_long(easy, CURLOPT_LOW_SPEED_TIME, timeoutSeconds))
        codes.append(cvmfs_curl_setopt_ptr(easy, CURLOPT_HTTPHEADER, noCache ? noCacheHeaders : normalHeaders))
        codes.append(cvmfs_curl_setopt_ptr(easy, CURLOPT_WRITEDATA, opaque))
        codes.append(cvmfs_curl_setopt_ptr(easy, CURLOPT_HEADERDATA, opaque))
        if let bad = codes.first(where: { $0 != CURLE_OK }) { return CurlCode(bad) }
        return withExtendedLifetime(context) { CurlCode(curl_easy_perform(easy)) }
    }

    /// `CURLINFO_RESPONSE_CODE` of the last transfer (0 when none arrived).
    var responseCode: Int {
        var status = 0
        _ = cvmfs_curl_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        return status
    }

    /// libcurl's detailed message for the last failure, or `curl_easy_strerror`'s text.
    func message(for code: CurlCode) -> String {
        errorBuffer[0] != 0 ? String(cString: errorBuffer) : code.message
    }
}
