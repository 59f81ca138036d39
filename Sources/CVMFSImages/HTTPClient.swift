import CCurl

/// Blocking HTTP GETs over one libcurl easy handle (connections are kept alive between calls).
/// Used from one thread at a time.
final class HTTPClient {
    struct Response {
        var status: Int
        /// Header names in lower case.
        var headers: [String: String]
        var body: [UInt8]
    }

    private let easy: UnsafeMutableRawPointer
    private let errorBuffer: UnsafeMutablePointer<CChar>
    let connectTimeout: Int

    private static let globalInit: CURLcode = curl_global_init(Int(CURL_GLOBAL_ALL))

    init(connectTimeout: Int = 10) throws(ImageError) {
        guard Self.globalInit == CURLE_OK, let easy = curl_easy_init() else {
            throw .network(url: "-", reason: "libcurl cannot be initialised")
        }
        self.easy = easy
        self.connectTimeout = connectTimeout
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        _ = cvmfs_curl_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        _ = cvmfs_curl_setopt_ptr(easy, CURLOPT_ERRORBUFFER, errorBuffer)
        _ = cvmfs_curl_setopt_ptr(easy, CURLOPT_USERAGENT, "cvmfs-swift-convert/1.0")
        _ = cvmfs_curl_setopt_long(easy, CURLOPT_FOLLOWLOCATION, 1)
        _ = cvmfs_curl_setopt_long(easy, CURLOPT_MAXREDIRS, 8)
        // Stall detection instead of a total time-out: layers can be large.
        _ = cvmfs_curl_setopt_long(easy, CURLOPT_LOW_SPEED_LIMIT, 1)
        _ = cvmfs_curl_setopt_long(easy, CURLOPT_LOW_SPEED_TIME, 60)
        _ = cvmfs_curl_setopt_write(easy, CURLOPT_WRITEFUNCTION) { data, size, count, user in
            let transfer = Unmanaged<Transfer>.fromOpaque(user!).takeUnretainedValue()
            return transfer.receive(UnsafeRawBufferPointer(start: data, count: size * count)) ? size * count : 0
        }
        _ = cvmfs_curl_setopt_write(easy, CURLOPT_HEADERFUNCTION) { data, size, count, user in
            let transfer = Unmanaged<Transfer>.fromOpaque(user!).takeUnretainedValue()
            transfer.header(UnsafeRawBufferPointer(start: data, count: size * count))
            return size * count
        }
    }

    deinit {
        curl_easy_cleanup(easy)
        errorBuffer.deallocate()
    }

    /// GETs `url`. Without a `sink` the body is collected; with one, bodies of 2xx answers go
    /// to the sink (whose error aborts the transfer and is rethrown) and only error bodies are collected.
    func get(_ url: String, headers: [String], sink: ((UnsafeRawBufferPointer) throws(ImageError) -> Void)? = nil) throws(ImageError) -> Response {
        let transfer = Transfer(sink: sink)
        var list: UnsafeMutablePointer<curl_slist>?
        for line in headers { list = curl_slist_append(list, line) }
        defer { curl_slist_free_all(list) }
        errorBuffer[0] = 0
        let opaque = Unmanaged.passUnretained(transfer).toOpaque()
        _ = cvmfs_curl_setopt_ptr(easy, CURLOPT_URL, url)
        _ = cvmfs_curl_setopt_ptr(easy, CURLOPT_HTTPHEADER, list.map { UnsafeRawPointer($0) })
        _ = cvmfs_curl_setopt_long(easy, CURLOPT_CONNECTTIMEOUT, connectTimeout)
        _ = cvmfs_curl_setopt_ptr(easy, CURLOPT_WRITEDATA, opaque)
        _ = cvmfs_curl_setopt_ptr(easy, CURLOPT_HEADERDATA, opaque)
        let code = withExtendedLifetime(transfer) { curl_easy_perform(easy) }
        if let failure = transfer.failure { throw failure }
        guard code == CURLE_OK else {
            let message = errorBuffer[0] != 0 ? String(cString: errorBuffer) : String(cString: curl_easy_strerror(code))
            throw .network(url: url, reason: message)
        }
        var status = 0
        _ = cvmfs_curl_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        return Response(status: status, headers: transfer.headers, body: transfer.body)
    }

    /// State of one request, reached from libcurl's callbacks.
    private final class Transfer {
        let sink: ((UnsafeRawBufferPointer) throws(ImageError) -> Void)?
        var headers: [String: String] = [:]
        var body: [UInt8] = []
        var status = 0
        var failure: ImageError?

        init(sink: ((UnsafeRawBufferPointer) throws(ImageError) -> Void)?) { self.sink = sink }

        func header(_ bytes: UnsafeRawBufferPointer) {
            let line = String(decoding: bytes, as: UTF8.self).trimmingSpaces
            if line.hasPrefix("HTTP/") {
                // A new response (after a redirect or 100-continue): forget the previous headers.
                headers = [:]
                let parts = line.split(separator: " ")
                status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
                return
            }
            guard let colon = line.firstIndex(of: ":") else { return }
            headers[line[..<colon].lowercased()] = String(line[line.index(after: colon)...]).trimmingSpaces
        }

        func receive(_ bytes: UnsafeRawBufferPointer) -> Bool {
            if let sink, status >= 200 && status < 300 {
                do { try sink(bytes) } catch {
                    failure = error
                    return false
                }
                return true
            }
            if body.count < 64 << 20 { body.append(contentsOf: bytes) }
            return true
        }
    }
}
