import CVMFSFormat

/// How a regular file's bytes are stored: one object, or chunks (docs/format/objects-and-chunks.md §3–4).
public enum FileContent: Sendable {
    case whole(ContentHash)
    case chunked([FileChunk])
}
