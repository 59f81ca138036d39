/// Why an object's bytes were refused. Each case names the object.
public enum ObjectError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The bytes as served do not hash to the object's name.
    case hashMismatch(expected: ContentHash, actual: ContentHash)
    /// zlib refused the stream (corrupt data, with zlib's message).
    case corruptStream(object: ContentHash, reason: String)
    /// The stream ended before zlib's end marker.
    case truncatedStream(object: ContentHash)
    /// Bytes followed zlib's end marker (refused as they arrive).
    case trailingData(object: ContentHash)
    /// The inflated size differs from the size the catalog promises.
    case sizeMismatch(object: ContentHash, expected: Int64, actual: Int64)
    /// The object decodes to more bytes than the catalog promises; refused
    /// as they arrive, after `atLeast` bytes.
    case longerThanExpected(object: ContentHash, expected: Int64, atLeast: Int64)
    /// Writing the decoded bytes failed.
    case sinkFailed(object: ContentHash, reason: String)

    public var description: String {
        switch self {
        case let .hashMismatch(expected, actual):
            return "object \(expected): content hash mismatch (the bytes hash to \(actual))"
        case let .corruptStream(object, reason):
            return "object \(object): corrupt zlib stream (\(reason))"
        case let .truncatedStream(object):
            return "object \(object): truncated zlib stream (no end marker)"
        case let .trailingData(object):
            return "object \(object): bytes after the end of the zlib stream (body longer than the object, cut off)"
        case let .sizeMismatch(object, expected, actual):
            return "object \(object): inflated size \(actual) differs from the catalog's \(expected)"
        case let .longerThanExpected(object, expected, atLeast):
            return "object \(object): decodes to more than the catalog's \(expected) bytes (cut off at \(atLeast))"
        case let .sinkFailed(object, reason):
            return "object \(object): \(reason)"
        }
    }
}
