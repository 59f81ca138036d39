import Glibc
@testable import CVMFSImages

/// Writes small ustar archives for tests (names up to 100 bytes).
struct TarBuilder {
    private(set) var bytes: [UInt8] = []

    mutating func add(_ name: String, type: UInt8 = UInt8(ascii: "0"), data: [UInt8] = [], mode: Int = 0o644, link: String = "", mtime: Int = 1_700_000_000) {
        var header = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, _ offset: Int, _ length: Int) {
            for (i, b) in text.utf8.prefix(length).enumerated() { header[offset + i] = b }
        }
        func octal(_ value: Int, _ offset: Int, _ length: Int) {
            let text = String(value, radix: 8).leftPadded(length - 1)
            put(text, offset, length - 1)
        }
        put(name, 0, 100)
        octal(mode, 100, 8); octal(0, 108, 8); octal(0, 116, 8)
        octal(data.count, 124, 12); octal(mtime, 136, 12)
        header[156] = type
        put(link, 157, 100)
        put("ustar\0", 257, 6); put("00", 263, 2)
        for i in 148..<156 { header[i] = 0x20 }
        let sum = header.reduce(0) { $0 + Int($1) }
        put(String(sum, radix: 8).leftPadded(6) + "\0 ", 148, 8)
        bytes += header + data + [UInt8](repeating: 0, count: (512 - data.count % 512) % 512)
    }

    mutating func directory(_ name: String, mode: Int = 0o755) { add(name, type: UInt8(ascii: "5"), mode: mode) }
    mutating func file(_ name: String, _ text: String, mode: Int = 0o644) { add(name, data: Array(text.utf8), mode: mode) }
    mutating func symlink(_ name: String, _ target: String) { add(name, type: UInt8(ascii: "2"), mode: 0o777, link: target) }
    mutating func hardlink(_ name: String, _ target: String) { add(name, type: UInt8(ascii: "1"), link: target) }

    /// A PAX extended header (`x`) for the entry that follows.
    mutating func pax(_ records: [(String, String)]) {
        var data: [UInt8] = []
        for (key, value) in records {
            let body = " \(key)=\(value)\n"
            var length = body.utf8.count + 1
            while String(length).utf8.count + body.utf8.count != length { length += 1 }
            data += Array((String(length) + body).utf8)
        }
        add("PaxHeaders/x", type: UInt8(ascii: "x"), data: data)
    }

    var archive: [UInt8] { bytes + [UInt8](repeating: 0, count: 1024) }
}

final class MemoryStream: ByteStream {
    private let bytes: [UInt8]
    private var offset = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(ImageError) -> Int {
        let n = min(buffer.count, bytes.count - offset, 777)  // odd sizes exercise refills
        bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: n) }
        offset += n
        return n
    }
}

func temporaryDirectory() -> String {
    var template = Array("/tmp/cvmfs-images-test.XXXXXX".utf8CString)
    return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
}

func readText(_ path: String) -> String? {
    guard let bytes = try? FS.read(path) else { return nil }
    return String(decoding: bytes, as: UTF8.self)
}
