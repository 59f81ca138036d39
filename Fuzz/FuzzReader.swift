/// Turns fuzz bytes into structured values for the harnesses that build a database from
/// them. Past the end every read returns zero or empty, so any input decodes.
struct FuzzReader {
    let bytes: [UInt8]
    private(set) var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { position >= bytes.count }

    mutating func byte() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }

    /// Small values are one byte (0...0x7f); 0x80 starts 8 little-endian bytes, any other
    /// byte a small negative or special value, so both edges are cheap for the fuzzer to reach.
    mutating func int64() -> Int64 {
        let first = byte()
        switch first {
        case 0..<0x80: return Int64(first)
        case 0x80:
            var value: UInt64 = 0
            for shift in stride(from: 0, to: 64, by: 8) { value |= UInt64(byte()) << UInt64(shift) }
            return Int64(bitPattern: value)
        case 0x81: return Int64.max
        case 0x82: return Int64.min
        case 0x83: return Int64(UInt32.max)
        case 0x84: return 0o040755
        case 0x85: return 0o100644
        case 0x86: return 0o120777
        default: return -Int64(first - 0x86)
        }
    }

    /// A length byte, then that many bytes (fewer at the end of the input).
    mutating func data() -> [UInt8] {
        let count = Int(byte())
        let end = min(bytes.count, position + count)
        defer { position = end }
        return position < end ? Array(bytes[position..<end]) : []
    }

    mutating func text() -> String { String(decoding: data(), as: UTF8.self) }

    /// One of `choices`, or (for a byte past their count) free text from the input.
    mutating func pick(_ choices: [String]) -> String {
        let index = Int(byte())
        return index < choices.count ? choices[index] : text()
    }

    /// The rest of the input.
    mutating func rest() -> [UInt8] {
        defer { position = bytes.count }
        return position < bytes.count ? Array(bytes[position...]) : []
    }
}
