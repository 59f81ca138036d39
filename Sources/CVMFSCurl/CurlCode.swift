import CCurl

/// A libcurl result code. A struct, not a closed enum, so codes from newer libcurl pass through.
public struct CurlCode: Error, RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt32

    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public init(_ code: CURLcode) { rawValue = code.rawValue }

    /// `curl_easy_strerror`'s text.
    public var message: String { String(cString: curl_easy_strerror(CURLcode(rawValue: rawValue))) }

    public var description: String { "CURLcode \(rawValue) (\(message))" }

    /// `CURLE_OK`.
    public static let ok = CurlCode(CURLE_OK)
    /// `CURLE_OPERATION_TIMEDOUT`: connect timeout or low-speed limit.
    public static let timedOut = CurlCode(CURLE_OPERATION_TIMEDOUT)
    /// `CURLE_COULDNT_CONNECT`.
    public static let couldntConnect = CurlCode(CURLE_COULDNT_CONNECT)
    /// `CURLE_FAILED_INIT`: `curl_easy_init` returned NULL.
    public static let failedInit = CurlCode(CURLE_FAILED_INIT)
    /// `CURLE_WRITE_ERROR`: our write callback refused the bytes (the sink threw).
    public static let writeError = CurlCode(CURLE_WRITE_ERROR)
}
