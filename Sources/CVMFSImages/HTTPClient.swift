import CCurl
import CVMFSCurl

/// Blocking HTTP GETs over one libcurl easy handle (connections are kept alive between calls).
/// Used from one thread at a time.
final class HTTPClient {
    struct Response {
        var status: Int
        /// Header names in lower case.
        var headers: [String: String]
        var body: [UInt8]
    }

    private let easy: CurlEasy
    let connectTimeout: Int

    init(connectTimeout: Int = 10) throws(ImageError) {
        self.connectTimeout = connectTimeout
        do throws(CurlCode) {
            easy = try CurlEasy()
            try easy.set(CURLOPT_USERAGENT, "cvmfs-swift-convert/1.0")
            try easy.set(CURLOPT_FOLLOWLOCATION, 1)
            try easy.set(CURLOPT_MAXREDIRS, 8)
            // Stall detection instead of a total time-out: layers can be large.
            try easy.set(CURLOPT_LOW_SPEED_LIMIT, 1)
            try easy.set(CURLOPT_LOW_SPEED_TIME, 60)
            try easy.set(CURLOPT_WRITEFUNCTION) { data, size, count, user in
                let transfer = Unmanaged<Transfer>.fromOpaque(user!).takeUnretainedValue()
                return transfer.receive(UnsafeRawBufferPointer(start: data, count: size * count)) ? size * count : 0
            }
            try easy.set(CURLOPT_HEADERFUNCTION) { data, size, count, user in
                let transfer = Unmanaged<Transfer>.fromOpaque(user!).takeUnretainedValue()
                transfer.header(UnsafeRawBufferPointer(start: data, count: size * count))
                return size * count
            }
        } catch {
            throw .network(url: "-", reason: "libcurl cannot be initialised: \(error.message)")
        }
    }

    /// GETs `url`. Without a `sink` the body is collected; with one, bodies of 2xx answers go
    /// to the sink (whose error aborts the transfer and is rethrown) and only error bodies are collected.
    func get(_ url: String, headers: [String], sink: ((UnsafeRawBufferPointer) throws(ImageError) -> Void)? = nil) throws(ImageError) -> Response {
        let transfer = Transfer(sink: sink)
        var list: UnsafeMutablePointer<curl_slist>?
        for line in headers { list = curl_slist_append(list, line) }
        defer { curl_slist_free_all(list) }
        let opaque = UnsafeRawPointer(Unmanaged.passUnretained(transfer).toOpaque())
        var code: CurlCode
        do throws(CurlCode) {
            try easy.set(CURLOPT_URL, url)
            try easy.set(CURLOPT_HTTPHEADER, list.map { UnsafeRawPointer($0) })
            try easy.set(CURLOPT_CONNECTTIMEOUT, connectTimeout)
            try easy.set(CURLOPT_WRITEDATA, opaque)
            try easy.set(CURLOPT_HEADERDATA, opaque)
            code = withExtendedLifetime(transfer) { easy.perform() }
        } catch {
            code = error
        }
        if let failure = transfer.failure { throw failure }
        guard code == .ok else { throw .network(url: url, reason: easy.message(for: code)) }
        return Response(status: easy.responseCode, headers: transfer.headers, body: transfer.body)
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
