/// The ordered list of what a workload reads when it starts, below one directory (an image's
/// root file system, a software release): docs/profiles.md describes the file and its use.
///
/// Text, one item per line, in the order the workload first touched them:
///
///     # cvmfs-swift start-up profile 1
///     usr/bin/python3.11
///     usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0<TAB>4194304
///
/// A line is a path relative to the directory, for a whole file, or a path, a tab and a byte
/// offset, for the chunk of a chunked file that holds that offset. Bytes below 0x20, 0x7F and
/// `%` in a path are written `%XX`. Lines starting with `#` are comments.
public struct StartupProfile: Sendable, Equatable {
    public struct Item: Sendable, Hashable {
        /// Relative to the profiled directory; never absolute, never with `.` or `..` parts.
        public var path: [UInt8]
        /// For a chunk of a chunked file: an offset inside it. `nil`: the whole file.
        public var offset: UInt64?

        public init(path: [UInt8], offset: UInt64? = nil) {
            self.path = path
            self.offset = offset
        }
    }

    public static let header = "# cvmfs-swift start-up profile 1"
    /// The name of the stored profile inside the directory it describes.
    public static let fileName = ".cvmfsprofile"
    /// The catalog property listing the profiled directories whose profile file that catalog
    /// holds, one repository path per line.
    public static let catalogProperty = "cvmfs_swift_profiles"

    public var items: [Item]

    public init(items: [Item]) {
        self.items = items
    }

    /// Parses a profile file; the error names the line.
    public init(bytes: [UInt8]) throws(ProfileError) {
        var items: [Item] = []
        var seen = Set<Item>()
        var sawHeader = false
        var number = 0
        for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            number += 1
            var line = line
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            if line.isEmpty { continue }
            if line.first == UInt8(ascii: "#") {
                if line.elementsEqual(Self.header.utf8) { sawHeader = true }
                continue
            }
            guard sawHeader else { throw .missingHeader }
            let parts = line.split(separator: UInt8(ascii: "\t"), omittingEmptySubsequences: false)
            guard parts.count <= 2 else { throw .malformed(line: number, reason: "more than one tab") }
            let path = try Self.unescape(parts[0], line: number)
            try Self.checkRelative(path, line: number)
            var offset: UInt64?
            if parts.count == 2 {
                guard let value = UInt64(String(decoding: parts[1], as: UTF8.self)) else {
                    throw .malformed(line: number, reason: "the chunk offset is not a number")
                }
                offset = value
            }
            let item = Item(path: path, offset: offset)
            if seen.insert(item).inserted { items.append(item) }
        }
        guard sawHeader else { throw .missingHeader }
        self.items = items
    }

    /// The file's bytes, header first.
    public var serialized: [UInt8] {
        var out = Array(Self.header.utf8)
        out.append(UInt8(ascii: "\n"))
        for item in items {
            Self.escape(item.path, into: &out)
            if let offset = item.offset {
                out.append(UInt8(ascii: "\t"))
                out.append(contentsOf: String(offset).utf8)
            }
            out.append(UInt8(ascii: "\n"))
        }
        return out
    }

    /// Whether `path` is a relative path that stays inside its directory.
    static func checkRelative(_ path: [UInt8], line: Int) throws(ProfileError) {
        guard !path.isEmpty, path.first != UInt8(ascii: "/") else {
            throw .malformed(line: line, reason: "the path must be relative to the profiled directory")
        }
        for part in path.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            if part.isEmpty || part.elementsEqual([0x2E]) || part.elementsEqual([0x2E, 0x2E]) {
                throw .malformed(line: line, reason: "empty, '.' or '..' path component")
            }
        }
    }

    private static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == 0x7F || byte == UInt8(ascii: "%")
    }

    static func escape(_ path: [UInt8], into out: inout [UInt8]) {
        let digits = Array("0123456789ABCDEF".utf8)
        for byte in path {
            if needsEscape(byte) {
                out.append(UInt8(ascii: "%"))
                out.append(digits[Int(byte >> 4)])
                out.append(digits[Int(byte & 0x0F)])
            } else {
                out.append(byte)
            }
        }
    }

    static func unescape(_ text: ArraySlice<UInt8>, line: Int) throws(ProfileError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        var index = text.startIndex
        while index < text.endIndex {
            let byte = text[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < text.endIndex, let high = Hex.nibble(text[index + 1]), let low = Hex.nibble(text[index + 2]) else {
                    throw .malformed(line: line, reason: "'%' not followed by two hex digits")
                }
                out.append(high << 4 | low)
                index += 3
            } else {
                out.append(byte)
                index += 1
            }
        }
        return out
    }
}

/// Why a profile file was refused.
public enum ProfileError: Error, Sendable, Equatable, CustomStringConvertible {
    case missingHeader
    case malformed(line: Int, reason: String)

    public var description: String {
        switch self {
        case .missingHeader: return "not a start-up profile (no '\(StartupProfile.header)' line)"
        case let .malformed(line, reason): return "line \(line): \(reason)"
        }
    }
}
