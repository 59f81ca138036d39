/// Expands `$(VAR)` and `$(VAR:-default)` in symlink targets (docs/format/catalogs.md §9).
///
/// Variables come from a lookup closure (the client passes its environment).
/// A variable that is set to the empty string counts as set, so its empty value
/// wins over a default. An unterminated `$(` stays literal.
public enum SymlinkExpander {
    /// Expands `target`. `lookup` returns `nil` for an unset variable.
    public static func expand(_ target: [UInt8], lookup: (String) -> String?) -> [UInt8] {
        let dollar = UInt8(ascii: "$"), open = UInt8(ascii: "("), close = UInt8(ascii: ")")
        guard target.contains(dollar) else { return target }
        var out: [UInt8] = []
        out.reserveCapacity(target.count + 16)
        var i = 0
        let n = target.count
        while i < n {
            // `$(` with at least one more byte after it.
            if target[i] == dollar, i + 2 < n, target[i + 1] == open {
                guard let end = target[(i + 2)...].firstIndex(of: close) else {
                    out += target[i...(i + 2)]
                    i += 3
                    continue
                }
                let inner = target[(i + 2)..<end]
                var name = inner, fallback = inner[inner.endIndex...]
                if let sep = firstSeparator(in: inner) {
                    name = inner[inner.startIndex..<sep]
                    fallback = inner[(sep + 2)...]
                }
                if let value = lookup(String(decoding: name, as: UTF8.self)) {
                    out += value.utf8
                } else {
                    out += fallback
                }
                i = end + 1
            } else {
                out.append(target[i])
                i += 1
            }
        }
        return out
    }

    /// String convenience for ``expand(_:lookup:)-([UInt8],_)``.
    public static func expand(_ target: String, lookup: (String) -> String?) -> String {
        String(decoding: expand(Array(target.utf8), lookup: lookup), as: UTF8.self)
    }

    /// Index of the first `:-` in `bytes`.
    private static func firstSeparator(in bytes: ArraySlice<UInt8>) -> Int? {
        var i = bytes.startIndex
        while i + 1 < bytes.endIndex {
            if bytes[i] == UInt8(ascii: ":"), bytes[i + 1] == UInt8(ascii: "-") { return i }
            i += 1
        }
        return nil
    }
}
