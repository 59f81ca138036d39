import CPacParser
import Glibc
import Synchronization

/// A proxy auto-configuration script, evaluated by libpacparser (`FindProxyForURL`).
///
/// libpacparser keeps one JavaScript context per process, so evaluations are serialized;
/// they happen at mount time and on `talk proxy set`, never on a read.
public enum PACScript {
    private static let engine = Mutex<Void>(())
    /// What the engine printed during the evaluation in progress (its error printer).
    private static let engineMessages = Mutex<[String]>([])

    /// The answer of `FindProxyForURL(url, host)` in `script`, as the script returned it
    /// (`PROXY a:3128; DIRECT`). Throws when the script does not parse or the call fails,
    /// with the engine's own message.
    public static func findProxy(script: [UInt8], url: String, host: String) throws(ProxyDiscoveryError) -> String {
        try engine.withLock { _ throws(ProxyDiscoveryError) -> String in
            engineMessages.withLock { $0 = [] }
            pacparser_set_error_printer(collectEngineMessage)
            guard pacparser_init() != 0 else { throw .engine(lastEngineMessage(or: "libpacparser could not start")) }
            defer { pacparser_cleanup() }
            let source = script.map { CChar(bitPattern: $0 == 0 ? UInt8(ascii: " ") : $0) } + [0]
            guard pacparser_parse_pac_string(source) != 0 else {
                throw .notJavaScript(lastEngineMessage(or: "the script does not parse"))
            }
            // The answer belongs to the JavaScript heap: copy it before `pacparser_cleanup`.
            guard let answer = pacparser_find_proxy(url, host) else {
                throw .evaluation(lastEngineMessage(or: "FindProxyForURL failed"))
            }
            return String(cString: answer)
        }
    }

    private static func lastEngineMessage(or fallback: String) -> String {
        let messages = engineMessages.withLock { $0 }
        let text = messages.joined(separator: " ").split(whereSeparator: { $0 == "\n" }).joined(separator: " ")
        return text.isEmpty ? fallback : text
    }

    fileprivate static func record(_ message: String) {
        engineMessages.withLock { $0.append(message) }
    }
}

private func collectEngineMessage(_ format: UnsafePointer<CChar>?, _ arguments: CVaListPointer?) -> Int32 {
    guard let format, let arguments else { return 0 }
    var buffer = [UInt8](repeating: 0, count: 1024)
    let written = buffer.withUnsafeMutableBufferPointer { raw in
        raw.withMemoryRebound(to: CChar.self) { vsnprintf($0.baseAddress, $0.count, format, arguments) }
    }
    PACScript.record(String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self))
    return written
}
