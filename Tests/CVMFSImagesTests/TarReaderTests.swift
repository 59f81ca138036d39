import Testing
@testable import CVMFSImages

@Suite("Tar reader")
struct TarReaderTests {
    static func entries(_ tar: TarBuilder) throws -> [TarEntry] {
        let reader = TarReader(source: MemoryStream(tar.archive), name: "test")
        var found: [TarEntry] = []
        while let entry = try reader.next() { found.append(entry) }
        return found
    }

    @Test("PAX times with fractions override the header's; malformed ones leave it (no crash)",
          arguments: [("1700000123.25", 1_700_000_123, 250_000_000), ("", 1_700_000_000, 0), (".", 1_700_000_000, 0),
                      (".5", 1_700_000_000, 0), ("x", 1_700_000_000, 0)])
    func paxTime(value: String, seconds: Int64, nanoseconds: Int64) throws {
        var tar = TarBuilder()
        tar.pax([("mtime", value)])
        tar.file("a.txt", "alpha\n")
        let entries = try Self.entries(tar)
        #expect(entries.count == 1)
        #expect(entries.first?.mtime == seconds)
        #expect((entries.first?.mtimeNanoseconds ?? 0) == nanoseconds)
    }

    @Test("a negative PAX size is ignored: the header's size is read")
    func negativePaxSize() throws {
        var tar = TarBuilder()
        tar.pax([("size", "-5")])
        tar.file("a.txt", "alpha\n")
        tar.file("b.txt", "beta\n")
        let entries = try Self.entries(tar)
        #expect(entries.map(\.size) == [6, 5])
    }

    @Test("a PAX record whose length ends before its key, its '=' or its newline is refused with a message (fuzz finding, no crash)",
          arguments: ["1 x", "4 a=", "5 a=b", "3 a=b\n", "9223372036854775807 a=b\n", "7 ab=cd"])
    func malformedPaxRecord(record: String) throws {
        var tar = TarBuilder()
        tar.add("././@PaxHeader", type: UInt8(ascii: "x"), data: Array(record.utf8))
        tar.file("a.txt", "alpha\n")
        #expect(throws: ImageError.layer("test: malformed PAX header record at offset 0 (not '<length> <key>=<value>\\n')")) {
            _ = try Self.entries(tar)
        }
    }
}
