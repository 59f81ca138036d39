import CCurl

/// One libcurl easy handle: created after `curl_global_init`, never raising
/// signals (threads and SIGALRM do not mix), with an error buffer for
/// libcurl's detailed message. Its owners (the downloader's `CurlHandle`, the
/// converter's `HTTPClient`) set the options of their kind of request.
///
/// `@unchecked Sendable`: a handle is used by one thread at a time; its
/// owners hand it between threads only through a lock.
public final class CurlEasy: @unchecked Sendable {
    /// The `CURL *`, for options and infos this wrapper has no method for.
    public let pointer: UnsafeMutableRawPointer
    /// `CURLOPT_ERRORBUFFER`, cleared before each transfer.
    private let errorBuffer: UnsafeMutablePointer<CChar>

    public init() throws(CurlCode) {
        CurlGlobal.ensureInitialised()
        guard let easy = curl_easy_init() else { throw .failedInit }
        pointer = easy
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        do {
            try set(CURLOPT_NOSIGNAL, 1)
            try set(CURLOPT_ERRORBUFFER, UnsafeRawPointer(errorBuffer))
        } catch {
            curl_easy_cleanup(easy)
            errorBuffer.deallocate()
            throw error
        }
    }

    deinit {
        curl_easy_cleanup(pointer)
        errorBuffer.deallocate()
    }

    public func set(_ option: CURLoption, _ value: Int) throws(CurlCode) {
        try Self.check(cvmfs_curl_setopt_long(pointer, option, value))
    }

    /// Sets a string, list or opaque pointer option; libcurl copies strings,
    /// the caller keeps lists and opaque pointers alive while they are set.
    public func set(_ option: CURLoption, _ value: UnsafeRawPointer?) throws(CurlCode) {
        try Self.check(cvmfs_curl_setopt_ptr(pointer, option, value))
    }

    public func set(_ option: CURLoption, _ text: String) throws(CurlCode) {
        try Self.check(cvmfs_curl_setopt_ptr(pointer, option, text))
    }

    /// Sets `CURLOPT_WRITEFUNCTION` or `CURLOPT_HEADERFUNCTION`.
    public func set(_ option: CURLoption, callback: cvmfs_curl_write_cb) throws(CurlCode) {
        try Self.check(cvmfs_curl_setopt_write(pointer, option, callback))
    }

    /// Runs the transfer with the options set.
    public func perform() -> CurlCode {
        errorBuffer[0] = 0
        return CurlCode(curl_easy_perform(pointer))
    }

    /// `CURLINFO_RESPONSE_CODE` of the last transfer (0 when none arrived).
    public var responseCode: Int {
        var status = 0
        _ = cvmfs_curl_getinfo_long(pointer, CURLINFO_RESPONSE_CODE, &status)
        return status
    }

    /// Seconds from the start of the last transfer to its first response byte
    /// (`CURLINFO_STARTTRANSFER_TIME_T`): one round trip on a reused connection.
    public var firstByteSeconds: Double {
        var microseconds: curl_off_t = 0
        _ = cvmfs_curl_getinfo_off(pointer, CURLINFO_STARTTRANSFER_TIME_T, &microseconds)
        return Double(microseconds) / 1_000_000
    }

    /// libcurl's detailed message for the last failure, or `curl_easy_strerror`'s text.
    public func message(for code: CurlCode) -> String {
        errorBuffer[0] != 0 ? String(cString: errorBuffer) : code.message
    }

    private static func check(_ code: CURLcode) throws(CurlCode) {
        if code != CURLE_OK { throw CurlCode(code) }
    }
}
