/// Sizes that steer content-defined chunking of large files.
///
/// Upstream's defaults are 4/8/16 MiB (docs/format/objects-and-chunks.md §4.1). Clients
/// never check them: only the contiguity of the chunk list matters.
public struct ChunkingParameters: Sendable, Equatable {
    public var minimum: Int
    public var average: Int
    public var maximum: Int
    public var enabled: Bool

    public static let upstreamDefault = ChunkingParameters(minimum: 4 << 20, average: 8 << 20, maximum: 16 << 20)

    public init(minimum: Int, average: Int, maximum: Int, enabled: Bool = true) {
        self.minimum = minimum
        self.average = average
        self.maximum = maximum
        self.enabled = enabled
    }

    /// Why these sizes cannot be used, or `nil` if they can.
    public var problem: String? {
        if minimum < 64 { return "the minimum chunk size must be at least 64 bytes (got \(minimum))" }
        if !(minimum < average && average < maximum) {
            return "chunk sizes must satisfy min < avg < max (got \(minimum)/\(average)/\(maximum))"
        }
        return nil
    }
}
