@testable import CVMFSImages
import CVMFSTestSupport
import Testing

@Suite("Work folder lock")
struct WorkLockTests {
    @Test("a second conversion into the same staging tree is refused while the first runs, and may start once it ended")
    func exclusive() throws {
        let work = try ProcessSupport.makeTemporaryDirectory("work-lock")
        defer { ProcessSupport.remove(work) }
        var first: WorkLock? = try WorkLock(work: work)
        #expect(throws: ImageError.io(path: work + "/lock", reason: "another conversion into this staging tree is running")) {
            _ = try WorkLock(work: work)
        }
        withExtendedLifetime(first) {}
        first = nil
        _ = try WorkLock(work: work)
    }
}
