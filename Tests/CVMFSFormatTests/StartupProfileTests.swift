import Testing
@testable import CVMFSFormat

@Suite struct StartupProfileTests {
    @Test func roundTripsPathsWithControlBytesAndChunkOffsets() throws {
        let profile = StartupProfile(items: [
            .init(path: Array("usr/bin/python3.11".utf8)),
            .init(path: Array("odd\tname%with\nbytes".utf8)),
            .init(path: Array("usr/lib/libpython3.11.so.1.0".utf8), offset: 4_194_304),
        ])
        let bytes = profile.serialized
        #expect(!bytes.contains(UInt8(ascii: "\t")) || String(decoding: bytes, as: UTF8.self).contains("\t4194304\n"))
        #expect(try StartupProfile(bytes: bytes) == profile)
    }

    @Test func refusesPathsThatLeaveTheDirectory() {
        for line in ["/etc/passwd", "../etc/passwd", "usr/../../x", "a//b", "./a"] {
            let text = StartupProfile.header + "\n" + line + "\n"
            #expect(throws: ProfileError.self) { try StartupProfile(bytes: Array(text.utf8)) }
        }
    }

    @Test func refusesAFileWithoutTheHeaderAndNamesTheBadLine() {
        #expect(throws: ProfileError.missingHeader) { try StartupProfile(bytes: Array("usr/bin/ls\n".utf8)) }
        let text = StartupProfile.header + "\nusr/bin/ls\nusr/lib/x\tnot-a-number\n"
        #expect(throws: ProfileError.malformed(line: 3, reason: "the chunk offset is not a number")) {
            try StartupProfile(bytes: Array(text.utf8))
        }
    }

    @Test func keepsFirstTouchOrderAndDropsRepeats() throws {
        let text = StartupProfile.header + "\nb\na\nb\na\t0\n"
        let profile = try StartupProfile(bytes: Array(text.utf8))
        #expect(profile.items.map { String(decoding: $0.path, as: UTF8.self) } == ["b", "a", "a"])
        #expect(profile.items.map(\.offset) == [nil, nil, 0])
    }
}
