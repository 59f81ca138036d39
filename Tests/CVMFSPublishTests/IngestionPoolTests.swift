import Testing
@testable import CVMFSPublish

@Suite struct IngestionPoolTests {
    @Test func resultsComeBackInInputOrder() throws {
        let results = try IngestionPool(threads: 2).run(count: 1000) { (i: Int) throws(PublishError) -> Int in i * 2 }
        #expect(results == (0..<1000).map { $0 * 2 })
    }

    @Test func anErrorStopsThePool() {
        #expect(throws: PublishError.self) {
            _ = try IngestionPool(threads: 2).run(count: 100) { (i: Int) throws(PublishError) -> Int in
                if i == 50 { throw PublishError.invalidOptions("boom") }
                return i
            }
        }
    }
}
