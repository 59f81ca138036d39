/// One member of a tar archive, with GNU long names and PAX records already applied.
struct TarEntry: Sendable {
    enum Kind: Sendable, Equatable {
        case regular, hardlink, symlink, characterDevice, blockDevice, directory, fifo
    }

    var path: String
    var kind: Kind
    var mode: UInt32
    var uid: UInt32
    var gid: UInt32
    var size: Int64
    var mtime: Int64
    var mtimeNanoseconds: Int64 = 0
    var linkTarget: String
    var deviceMajor: UInt32
    var deviceMinor: UInt32
    /// `SCHILY.xattr.*` PAX records: extended attributes.
    var xattrs: [(name: String, value: [UInt8])] = []
}
