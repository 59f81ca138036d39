/// One row of the `chunks` table: a piece of a chunked file
/// (docs/format/objects-and-chunks.md §4.1). Offsets and sizes are in the uncompressed file;
/// the object is `data/xx/…P`, compressed as the owning file says.
public struct FileChunk: Hashable, Sendable {
    /// Byte offset in the uncompressed file.
    public var offset: UInt64
    /// Uncompressed length.
    public var size: UInt64
    /// The chunk object's content hash, in the file's algorithm.
    public var hash: ContentHash

    public init(offset: UInt64, size: UInt64, hash: ContentHash) {
        self.offset = offset
        self.size = size
        self.hash = hash
    }
}
