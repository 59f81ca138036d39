/// Extended attributes of one entry, and their version-1 blob format
/// (docs/format/catalogs.md §8): `u8 version=1, u8 count`, then per entry
/// `u8 keyLength, u8 valueLength, key, value`, keys ascending.
///
/// Keys are 1–255 bytes without NUL, values 0–255 bytes, at most 255 entries:
/// the one-byte length fields cannot hold more, so we refuse more rather than
/// write a blob upstream would misread.
public struct XattrList: Hashable, Sendable {
    /// Entries sorted by key bytes.
    public private(set) var entries: [(key: [UInt8], value: [UInt8])]

    public static let version: UInt8 = 1
    public static let maxEntries = 255
    public static let maxLength = 255

    public init() { entries = [] }

    public static func == (a: XattrList, b: XattrList) -> Bool {
        a.entries.count == b.entries.count && zip(a.entries, b.entries).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }

    public func hash(into hasher: inout Hasher) {
        for entry in entries { hasher.combine(entry.key); hasher.combine(entry.value) }
    }

    public var isEmpty: Bool { entries.isEmpty }
    public var count: Int { entries.count }
    /// Keys in ascending byte order.
    public var keys: [String] { entries.map { String(decoding: $0.key, as: UTF8.self) } }

    /// The value of `key`, or `nil` if absent.
    public subscript(key: String) -> [UInt8]? {
        let k = Array(key.utf8)
        return entries.first { $0.key == k }?.value
    }

    /// Sets or replaces an attribute; `false` (and no change) when the key or
    /// value is out of range or the list is full.
    @discardableResult
    public mutating func set(_ key: String, _ value: [UInt8]) -> Bool {
        let k = Array(key.utf8)
        guard !k.isEmpty, k.count <= Self.maxLength, !k.contains(0), value.count <= Self.maxLength else { return false }
        let index = entries.firstIndex { !$0.key.lexicographicallyPrecedes(k) } ?? entries.endIndex
        if index < entries.endIndex, entries[index].key == k {
            entries[index].value = value
            return true
        }
        guard entries.count < Self.maxEntries else { return false }
        entries.insert((k, value), at: index)
        return true
    }

    /// Removes an attribute; `true` if it was there.
    @discardableResult
    public mutating func remove(_ key: String) -> Bool {
        let k = Array(key.utf8)
        guard let index = entries.firstIndex(where: { $0.key == k }) else { return false }
        entries.remove(at: index)
        return true
    }

    /// The version-1 blob.
    public func serialized() -> [UInt8] {
        var blob: [UInt8] = [Self.version, UInt8(entries.count)]
        blob.reserveCapacity(2 + entries.reduce(0) { $0 + 2 + $1.key.count + $1.value.count })
        for entry in entries {
            blob.append(UInt8(entry.key.count))
            blob.append(UInt8(entry.value.count))
            blob += entry.key
            blob += entry.value
        }
        return blob
    }

    /// Parses a blob; `nil` when it is corrupted (wrong version, truncated,
    /// empty key, trailing bytes), which readers treat as "no xattrs".
    public init?(serialized blob: UnsafeRawBufferPointer) {
        guard blob.count >= 2, blob[0] == Self.version else { return nil }
        let count = Int(blob[1])
        var position = 2
        var list: [(key: [UInt8], value: [UInt8])] = []
        list.reserveCapacity(count)
        for _ in 0..<count {
            guard position + 2 <= blob.count else { return nil }
            let keyLength = Int(blob[position]), valueLength = Int(blob[position + 1])
            position += 2
            guard keyLength > 0, position + keyLength + valueLength <= blob.count else { return nil }
            let key = Array(blob[position..<position + keyLength])
            let value = Array(blob[position + keyLength..<position + keyLength + valueLength])
            guard !key.contains(0) else { return nil }
            position += keyLength + valueLength
            list.append((key, value))
        }
        guard position == blob.count else { return nil }
        // Writers emit ascending keys; sort anyway so lookups and equality do not depend on it.
        list.sort { $0.key.lexicographicallyPrecedes($1.key) }
        entries = list
    }

    public init?(serialized blob: [UInt8]) {
        guard let list = blob.withUnsafeBytes({ XattrList(serialized: $0) }) else { return nil }
        self = list
    }
}
