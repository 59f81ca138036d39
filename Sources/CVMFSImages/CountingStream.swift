/// Passes bytes through and reports how many have gone by (progress of a blob being read).
final class CountingStream: ByteStream {
    private let source: ByteStream
    private let report: (Int64) -> Void
    private(set) var count: Int64 = 0

    init(source: ByteStream, report: @escaping (Int64) -> Void) {
        self.source = source
        self.report = report
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(ImageError) -> Int {
        let n = try source.read(into: buffer)
        count += Int64(n)
        report(count)
        return n
    }
}
