#if canImport(Glibc)
import Glibc
#endif

/// The text of an errno value (`strerror`), for error messages that name a
/// file; the one copy every target uses.
public func errnoText(_ code: Int32 = errno) -> String {
    guard let text = strerror(code) else { return "errno \(code)" }
    return String(cString: text)
}
