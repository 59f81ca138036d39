import CVMFSCurl

/// Per-attempt state the libcurl callbacks write into, reached through `CURLOPT_WRITEDATA` and
/// `CURLOPT_HEADERDATA`. Lives on the fetching thread only, for one `curl_easy_perform`.
final class TransferContext {
    let easy: CurlEasy
    let sink: any DownloadSink
    /// Body bytes handed to the sink.
    var bytes: Int64 = 0
    /// The first error the sink threw; the transfer is aborted with `CURLE_WRITE_ERROR` then.
    var sinkError: (any Error)?
    /// Value of `X-Squid-Error:` or of a `Proxy-Status:` that contains `error=`, for the last
    /// response (reset on every status line, so a redirect's headers do not leak into the next).
    var proxyErrorHeader: String?
    /// Whether the current response is a 2xx; decided at the first body byte. Bodies of error
    /// pages must not reach the sink, or they would be hashed as if they were the object.
    private var deliverBody: Bool?

    init(easy: CurlEasy, sink: any DownloadSink) {
        self.easy = easy
        self.sink = sink
    }

    /// Write callback body: returns the number of bytes taken; anything else aborts the transfer.
    func receive(_ data: UnsafeRawBufferPointer) -> Int {
        if deliverBody == nil {
            deliverBody = (200..<300).contains(easy.responseCode)
        }
        guard deliverBody == true else { return data.count }
        do {
            try sink.write(data)
        } catch {
            sinkError = error
            return 0
        }
        bytes += Int64(data.count)
        return data.count
    }

    /// Header callback body: one header line at a time, including the status line.
    func header(_ line: UnsafeRawBufferPointer) {
        let text = String(decoding: line, as: UTF8.self)
        if text.hasPrefix("HTTP/") {
            proxyErrorHeader = nil
            deliverBody = nil
            return
        }
        guard let colon = text.firstIndex(of: ":") else { return }
        let name = text[..<colon].lowercased()
        let value = String(Substring(text[text.index(after: colon)...]).trimmingSpaces.trimmingNewlines)
        if name == "x-squid-error" {
            proxyErrorHeader = "X-Squid-Error: " + value
        } else if name == "proxy-status" && value.contains("error=") {
            proxyErrorHeader = "Proxy-Status: " + value
        }
    }
}

extension Substring {
    /// Drops the CR/LF that ends a raw header line.
    var trimmingNewlines: Substring {
        var s = self
        while let c = s.last, c == "\r" || c == "\n" || c == "\r\n" { s.removeLast() }
        return s
    }
}
