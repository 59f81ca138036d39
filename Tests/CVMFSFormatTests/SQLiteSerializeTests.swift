import Foundation
import Testing
@testable import CVMFSFormat

/// `SQLiteDatabase.serialized()` and `isAutocommit`, which the fuzz harnesses use to hand a
/// reader the rows of an uncommitted transaction and then roll back to the same file.
@Suite("SQLite serialize inside a transaction")
struct SQLiteSerializeTests {
    @Test("the copy of an open transaction holds its rows, new pages included; a rollback restores the file")
    func flushThenRollback() throws {
        let dir = try CatalogTestSupport.scratchDirectory()
        let (file, _) = try CatalogWriterTests.writeSample(in: dir)
        let before = try Data(contentsOf: URL(fileURLWithPath: file))
        let db = try SQLiteDatabase(path: file, mode: .readWriteCreate)
        try db.execute("PRAGMA journal_mode=MEMORY; PRAGMA locking_mode=EXCLUSIVE")
        #expect(db.isAutocommit)
        try db.execute("BEGIN")
        #expect(!db.isAutocommit)
        let insert = try db.prepare("INSERT INTO properties (key, value) VALUES (?, ?)")
        for i in 0..<200 { try insert.run([.text("k\(i)"), .text(String(repeating: "v", count: 100))]) }
        let image = try #require(db.serialized())
        #expect(image.count > before.count)

        let copy = dir.appendingPathComponent("copy.db").path
        try Data(image).write(to: URL(fileURLWithPath: copy))
        let reader = try SQLiteDatabase(path: copy, mode: .readOnly)
        #expect(try reader.readProperties()["k199"] == String(repeating: "v", count: 100))
        let check = try reader.prepare("PRAGMA integrity_check(1)")
        #expect(try check.step() && check.string(at: 0) == "ok")

        insert.reset()
        try db.execute("ROLLBACK")
        #expect(db.isAutocommit)
        #expect(try Data(contentsOf: URL(fileURLWithPath: file)) == before)
    }
}
