import CCrypto

/// Reads OpenSSL's thread-local error queue into one line.
///
/// OpenSSL reports why a call failed only through this queue, and stale
/// entries would confuse the next failure, so reading also empties it.
enum OpenSSLErrorQueue {
    static func drain() -> String {
        var reasons: [String] = []
        var buffer = [CChar](repeating: 0, count: 256)
        var code = ERR_get_error()
        while code != 0 {
            ERR_error_string_n(code, &buffer, buffer.count)
            reasons.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            code = ERR_get_error()
        }
        return reasons.isEmpty ? "no reason given" : reasons.joined(separator: "; ")
    }
}
