/// Reads a tar stream entry by entry: ustar and old-GNU headers, GNU long names
/// (`L`, `K`), PAX extended headers (`x`; global `g` headers are skipped) and base-256
/// numeric fields. The caller reads or skips each entry's data before asking for the next.
package final class TarReader {
    private let source: ByteStream
    private let buffer: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0
    /// Bytes of the current entry's data not yet consumed, and its padding.
    private var remaining: Int64 = 0
    private var padding = 0
    private let name: String

    package init(source: ByteStream, name: String) {
        self.source = source
        self.name = name
        buffer = .allocate(byteCount: 1 << 20, alignment: 16)
    }

    deinit { buffer.deallocate() }

    /// What the meta entries before a member say about it: GNU long names (`L`, `K`)
    /// and PAX records (`x`).
    private struct Extensions {
        var longName: String?
        var longLink: String?
        var pax: [String: [UInt8]] = [:]
    }

    /// The next entry, or nil at the end of the archive.
    package func next() throws(ImageError) -> TarEntry? {
        try skipRest()
        var extensions = Extensions()
        while true {
            guard let header = try readBlock() else { return nil }
            if header.allSatisfy({ $0 == 0 }) {
                return nil  // end-of-archive marker (the second zero block need not be read)
            }
            try verifyChecksum(header)
            let type = header[156]
            let size = try number(header, 124, 12)
            guard size >= 0 else { throw .layer("\(name): negative entry size") }
            if try readMetaEntry(type: type, size: size, into: &extensions) { continue }
            let entry = try member(header, type: type, size: size, extensions: extensions)
            // Header-only types carry no data whatever the size field says (as Go's archive/tar).
            if entry.kind == .regular {
                remaining = entry.size
                padding = Int((512 - entry.size % 512) % 512)
            } else {
                remaining = 0
                padding = 0
            }
            return entry
        }
    }

    /// Reads a meta entry's data into `extensions`; false for a header that describes a member.
    private func readMetaEntry(type: UInt8, size: Int64, into extensions: inout Extensions) throws(ImageError) -> Bool {
        switch type {
        case UInt8(ascii: "L"), UInt8(ascii: "K"):
            let data = try readSmall(size)
            let text = Self.string(data[...])
            if type == UInt8(ascii: "L") { extensions.longName = text } else { extensions.longLink = text }
            return true
        case UInt8(ascii: "x"):
            extensions.pax.merge(try parsePAX(try readSmall(size))) { $1 }
            return true
        case UInt8(ascii: "g"):
            _ = try readSmall(size)
            return true
        default:
            return false
        }
    }

    /// The member a header describes, with the meta entries before it applied.
    private func member(_ header: [UInt8], type: UInt8, size: Int64, extensions: Extensions) throws(ImageError) -> TarEntry {
        let pax = extensions.pax
        let path = Self.path(header, extensions: extensions)
        var link = Self.string(header[157..<257])
        if let l = pax["linkpath"] { link = Self.string(l[...]) } else if let longLink = extensions.longLink { link = longLink }
        let kind = try kind(type: type, path: path)
        // Old tars mark directories only by a trailing slash.
        let regularWithSlash = kind == .regular && path.hasSuffix("/")
        var entry = TarEntry(
            path: path, kind: regularWithSlash ? .directory : kind,
            mode: UInt32(truncatingIfNeeded: try number(header, 100, 8)) & 0o7777,
            uid: UInt32(truncatingIfNeeded: try number(header, 108, 8)),
            gid: UInt32(truncatingIfNeeded: try number(header, 116, 8)),
            size: size, mtime: try number(header, 136, 12), linkTarget: link,
            deviceMajor: UInt32(truncatingIfNeeded: try number(header, 329, 8)),
            deviceMinor: UInt32(truncatingIfNeeded: try number(header, 337, 8)))
        Self.applyPAX(pax, to: &entry)
        return entry
    }

    private static func path(_ header: [UInt8], extensions: Extensions) -> String {
        if let p = extensions.pax["path"] { return string(p[...]) }
        if let longName = extensions.longName { return longName }
        let path = string(header[0..<100])
        let magic = Array(header[257..<263])
        if magic == Array("ustar\0".utf8) {  // POSIX ustar: prefix field
            let prefix = string(header[345..<500])
            if !prefix.isEmpty { return prefix + "/" + path }
        }
        return path
    }

    private func kind(type: UInt8, path: String) throws(ImageError) -> TarEntry.Kind {
        switch type {
        case 0, UInt8(ascii: "0"), UInt8(ascii: "7"): return .regular
        case UInt8(ascii: "1"): return .hardlink
        case UInt8(ascii: "2"): return .symlink
        case UInt8(ascii: "3"): return .characterDevice
        case UInt8(ascii: "4"): return .blockDevice
        case UInt8(ascii: "5"): return .directory
        case UInt8(ascii: "6"): return .fifo
        default:
            throw .layer("\(name): entry '\(path)' has unsupported tar type '\(Character(Unicode.Scalar(type)))'")
        }
    }

    /// PAX records override the header's size, owner and time, and carry the xattrs.
    private static func applyPAX(_ pax: [String: [UInt8]], to entry: inout TarEntry) {
        if let v = pax["size"], let n = Int64(string(v[...])), n >= 0 { entry.size = n }
        if let v = pax["uid"], let n = UInt32(string(v[...])) { entry.uid = n }
        if let v = pax["gid"], let n = UInt32(string(v[...])) { entry.gid = n }
        if let v = pax["mtime"] {
            let text = string(v[...])
            // "", "." and ".5" split into fewer parts: no seconds, the header's time stays.
            let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
            if let seconds = parts.first, let s = Int64(seconds) {
                entry.mtime = s
                if parts.count == 2 {
                    let digits = String(parts[1].prefix(9))
                    let padded = digits + String(repeating: "0", count: 9 - digits.count)
                    entry.mtimeNanoseconds = Int64(padded) ?? 0
                }
            }
        }
        for (key, value) in pax.sorted(by: { $0.key < $1.key }) where key.hasPrefix("SCHILY.xattr.") {
            entry.xattrs.append((String(key.dropFirst("SCHILY.xattr.".count)), value))
        }
    }

    /// Passes the current entry's data to `body` in pieces.
    package func readData(_ body: (UnsafeRawBufferPointer) throws(ImageError) -> Void) throws(ImageError) {
        while remaining > 0 {
            if start == end { try fill() }
            let n = min(end - start, Int(clamping: remaining))
            try body(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[start..<(start + n)]))
            start += n
            remaining -= Int64(n)
        }
        try consume(padding)
        padding = 0
    }

    private func skipRest() throws(ImageError) {
        if remaining > 0 || padding > 0 { try readData { _ throws(ImageError) in } }
    }

    private func fill() throws(ImageError) {
        if start == end { start = 0; end = 0 }
        let n = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[end...]))
        if n == 0 { throw .layer("\(name): tar archive is truncated") }
        end += n
    }

    private func consume(_ count: Int) throws(ImageError) {
        var left = count
        while left > 0 {
            if start == end { try fill() }
            let n = min(left, end - start)
            start += n
            left -= n
        }
    }

    /// The next 512-byte block, or nil at a clean end of input.
    private func readBlock() throws(ImageError) -> [UInt8]? {
        if end - start < 512 {
            // Move the tail to the front and read until a block is complete or input ends.
            let tail = end - start
            if tail > 0 && start > 0 { buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + start, byteCount: tail) }
            start = 0
            end = tail
            while end < 512 {
                let n = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[end...]))
                if n == 0 {
                    if end == 0 { return nil }
                    throw .layer("\(name): tar archive ends inside a header")
                }
                end += n
            }
        }
        let block = Array(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[start..<(start + 512)]))
        start += 512
        return block
    }

    private func readSmall(_ size: Int64) throws(ImageError) -> [UInt8] {
        guard size < 16 << 20 else { throw .layer("\(name): extended header of \(size) bytes is too large") }
        var data = [UInt8]()
        data.reserveCapacity(Int(size))
        remaining = size
        padding = Int((512 - size % 512) % 512)
        try readData { (chunk: UnsafeRawBufferPointer) throws(ImageError) in data.append(contentsOf: chunk) }
        return data
    }

    private func verifyChecksum(_ header: [UInt8]) throws(ImageError) {
        let stored = try number(header, 148, 8)
        var sum: Int64 = 0
        for (i, byte) in header.enumerated() { sum += (i >= 148 && i < 156) ? 32 : Int64(byte) }
        guard sum == stored else { throw .layer("\(name): tar header checksum mismatch (not a tar archive, or corrupt)") }
    }

    /// An octal field, or a base-256 one when its first byte has the high bit set.
    private func number(_ header: [UInt8], _ offset: Int, _ length: Int) throws(ImageError) -> Int64 {
        let field = header[offset..<(offset + length)]
        if let first = field.first, first & 0x80 != 0 {
            var value: Int64 = Int64(first & 0x3F)
            let negative = first & 0x40 != 0
            for byte in field.dropFirst() {
                guard value < Int64.max >> 8 else { throw .layer("\(name): numeric field overflows") }
                value = value << 8 | Int64(byte)
            }
            return negative ? -value : value
        }
        var value: Int64 = 0
        var seenDigit = false
        for byte in field {
            if byte == 0 || (byte == 0x20 && seenDigit) { break }
            if byte == 0x20 { continue }
            guard byte >= 0x30 && byte <= 0x37 else { throw .layer("\(name): bad octal field in tar header") }
            guard value < Int64.max >> 3 else { throw .layer("\(name): numeric field overflows") }
            value = value << 3 | Int64(byte - 0x30)
            seenDigit = true
        }
        return value
    }

    private func parsePAX(_ data: [UInt8]) throws(ImageError) -> [String: [UInt8]] {
        var records: [String: [UInt8]] = [:]
        var i = 0
        while i < data.count {
            // "<length> <key>=<value>\n", the length counting the whole record: it must reach
            // past the space and end on the newline, or the key and value ranges would be reversed.
            guard let space = data[i...].firstIndex(of: 0x20),
                  let length = Int(String(decoding: data[i..<space], as: UTF8.self)), length > 0,
                  length <= data.count - i, space + 1 < i + length, data[i + length - 1] == 0x0A,
                  let equals = data[(space + 1)..<(i + length - 1)].firstIndex(of: 0x3D)
            else { throw .layer("\(name): malformed PAX header record at offset \(i) (not '<length> <key>=<value>\\n')") }
            let key = String(decoding: data[(space + 1)..<equals], as: UTF8.self)
            records[key] = Array(data[(equals + 1)..<(i + length - 1)])  // without the trailing newline
            i += length
        }
        return records
    }

    static func string(_ bytes: ArraySlice<UInt8>) -> String {
        let end = bytes.firstIndex(of: 0) ?? bytes.endIndex
        return String(decoding: bytes[bytes.startIndex..<end], as: UTF8.self)
    }
}
