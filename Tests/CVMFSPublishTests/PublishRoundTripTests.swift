import Testing
@testable import CVMFSPublish
@testable import CVMFSFormat

@Suite struct PublishRoundTripTests {
    @Test func placeholder() {}
}
