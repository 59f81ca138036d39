/// One member of a tar archive, with GNU long names and PAX records already applied.
package struct TarEntry: Sendable {
    package enum Kind: Sendable, Equatable {
        case regular, hardlink, symlink, characterDevice, blockDevice, directory, fifo
    }

    package var path: String
    package var kind: Kind
    package var mode: UInt32
    package var uid: UInt32
    package var gid: UInt32
    package var size: Int64
    package var mtime: Int64
    package var mtimeNanoseconds: Int64 = 0
    package var linkTarget: String
    package var deviceMajor: UInt32
    package var deviceMinor: UInt32
    /// `SCHILY.xattr.*` PAX records: extended attributes.
    package var xattrs: [(name: String, value: [UInt8])] = []
}
