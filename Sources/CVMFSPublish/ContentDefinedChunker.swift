/// Finds chunk boundaries that depend on the bytes themselves, so an edit in
/// one place of a large file changes only the chunks around it.
///
/// A 32-bit shift-xor value acts as a rolling hash over the last 32 bytes
/// (each byte shifts out after 32 steps). Past the minimum size, a position
/// whose value falls below a threshold is a cut; the threshold makes cuts
/// appear on average `average - minimum` bytes after the minimum. The
/// maximum size always cuts.
public struct ContentDefinedChunker: Sendable {
    public let parameters: ChunkingParameters
    private let threshold: UInt32

    public init(parameters: ChunkingParameters) {
        self.parameters = parameters
        let spread = max(1, parameters.average - parameters.minimum)
        threshold = UInt32(truncatingIfNeeded: Int(UInt32.max) / spread)
    }

    /// Returns the lengths of consecutive chunks covering `bytes` exactly.
    public func chunkLengths(of bytes: UnsafeRawBufferPointer) -> [Int] {
        var lengths = [Int]()
        var start = 0
        let total = bytes.count
        while start < total {
            let remaining = total - start
            if remaining <= parameters.minimum {
                lengths.append(remaining)
                break
            }
            let cut = nextCut(in: bytes, from: start)
            lengths.append(cut - start)
            start = cut
        }
        return lengths
    }

    /// The absolute offset where the chunk starting at `start` ends.
    private func nextCut(in bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        let end = min(bytes.count, start + parameters.maximum)
        // The rolling value needs 32 bytes of history before the first candidate.
        var position = start + parameters.minimum - 32
        var value: UInt32 = 0
        let warmEnd = start + parameters.minimum
        while position < warmEnd {
            value = (value &<< 1) ^ UInt32(bytes[position])
            position += 1
        }
        while position < end {
            value = (value &<< 1) ^ UInt32(bytes[position])
            position += 1
            if value < threshold { return position }
        }
        return end
    }
}
