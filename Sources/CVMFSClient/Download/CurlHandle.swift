import CCurl
import CVMFSCurl

/// One downloader easy handle with the options that never change between requests.
///
/// Handles live in `Downloader`'s pool. Keeping a handle alive keeps its connection cache, so
/// consecutive requests from the pool reuse TCP connections (`Connection: Keep-Alive`).
///
/// `@unchecked Sendable`: a handle is used by one thread at a time. It is only reachable through
/// the pool `Mutex` while idle, and `Downloader.fetch` owns it exclusively between taking it out
/// of the pool and putting it back.
final class CurlHandle: @unchecked Sendable {
    let easy: CurlEasy
    /// Headers of a normal request (docs/format/repository-layout.md §3.4). The empty `Pragma:` removes the
    /// `Pragma: no-cache` libcurl would add when a proxy is used, so proxies may cache objects.
    private let normalHeaders: UnsafeMutablePointer<curl_slist>
    /// Headers of the re-fetch after bad data: ask every cache on the path for a fresh copy.
    private let noCacheHeaders: UnsafeMutablePointer<curl_slist>

    init(share: CurlShare, settings: DownloadSettings) throws(DownloadConfigurationError) {
        normalHeaders = Self.list(["Connection: Keep-Alive", "Pragma:"])
        noCacheHeaders = Self.list(["Connection: Keep-Alive", "Pragma: no-cache", "Cache-Control: no-cache"])
        do throws(CurlCode) {
            easy = try CurlEasy()
            try easy.set(CURLOPT_SHARE, UnsafeRawPointer(share.share))
            try easy.set(CURLOPT_HTTPGET, 1)
            try easy.set(CURLOPT_USERAGENT, settings.userAgent)
            try easy.set(CURLOPT_LOW_SPEED_LIMIT, settings.lowSpeedLimit)
            try easy.set(CURLOPT_FOLLOWLOCATION, settings.followRedirects ? 1 : 0)
            try easy.set(CURLOPT_MAXREDIRS, 4)
            // 512 KiB receive buffer (libcurl's maximum is 10 MiB, default 16 KiB):
            // one recv, one hash update, one inflate call and one pwrite per 512 KiB
            // instead of per 16 KiB. Syscalls dominate a cold read otherwise.
            try easy.set(CURLOPT_BUFFERSIZE, 512 * 1024)
            try easy.set(CURLOPT_WRITEFUNCTION) { data, size, count, user in
                let context = Unmanaged<TransferContext>.fromOpaque(user!).takeUnretainedValue()
                return context.receive(UnsafeRawBufferPointer(start: data, count: size * count))
            }
            try easy.set(CURLOPT_HEADERFUNCTION) { data, size, count, user in
                let context = Unmanaged<TransferContext>.fromOpaque(user!).takeUnretainedValue()
                context.header(UnsafeRawBufferPointer(start: data, count: size * count))
                return size * count
            }
        } catch {
            curl_slist_free_all(normalHeaders)
            curl_slist_free_all(noCacheHeaders)
            throw .curlSetup("libcurl handle: " + error.message)
        }
    }

    deinit {
        curl_slist_free_all(normalHeaders)
        curl_slist_free_all(noCacheHeaders)
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
        let opaque = UnsafeRawPointer(Unmanaged.passUnretained(context).toOpaque())
        do throws(CurlCode) {
            try easy.set(CURLOPT_URL, url)
            try easy.set(CURLOPT_PROXY, proxy.curlValue)
            try easy.set(CURLOPT_CONNECTTIMEOUT, timeoutSeconds)
            try easy.set(CURLOPT_LOW_SPEED_TIME, timeoutSeconds)
            try easy.set(CURLOPT_HTTPHEADER, UnsafeRawPointer(noCache ? noCacheHeaders : normalHeaders))
            try easy.set(CURLOPT_WRITEDATA, opaque)
            try easy.set(CURLOPT_HEADERDATA, opaque)
        } catch {
            return error
        }
        return withExtendedLifetime(context) { easy.perform() }
    }

    /// `CURLINFO_RESPONSE_CODE` of the last transfer (0 when none arrived).
    var responseCode: Int { easy.responseCode }

    /// libcurl's detailed message for the last failure, or `curl_easy_strerror`'s text.
    func message(for code: CurlCode) -> String { easy.message(for: code) }
}
