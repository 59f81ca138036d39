/// The type letter appended to an object's name on the server (docs/format/repository-layout.md §3.3).
public enum ObjectSuffix: UInt8, Sendable {
    case none = 0
    case catalog = 0x43      // C
    case partial = 0x50      // P: one chunk of a chunked file
    case certificate = 0x58  // X
    case history = 0x48      // H
    case metainfo = 0x4D     // M

    public var letter: String {
        self == .none ? "" : String(UnicodeScalar(rawValue))
    }
}
