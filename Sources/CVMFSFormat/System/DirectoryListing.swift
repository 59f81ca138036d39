#if canImport(Glibc)
import Glibc
#endif

/// The names in a local directory, without `.` and `..`, in the order the
/// file system returns them. Names are bytes: Linux file names need not be
/// UTF-8, and a publisher must keep them as they are.
public enum DirectoryListing {
    /// The names in the directory at `path`; the errno of `opendir` on failure.
    public static func names(at path: String) throws(DirectoryListingError) -> [[UInt8]] {
        guard let dir = opendir(path) else { throw DirectoryListingError(code: errno) }
        return read(dir)
    }

    /// The names in the directory open as `descriptor`, which stays open and
    /// keeps its position (the listing reads a duplicate).
    public static func names(inDirectory descriptor: Int32) throws(DirectoryListingError) -> [[UInt8]] {
        let duplicate = openat(descriptor, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard duplicate >= 0 else { throw DirectoryListingError(code: errno) }
        guard let dir = fdopendir(duplicate) else {
            let code = errno
            close(duplicate)
            throw DirectoryListingError(code: code)
        }
        return read(dir)
    }

    /// The names as Swift strings (invalid UTF-8 repaired), for folders this
    /// project writes itself.
    public static func strings(at path: String) throws(DirectoryListingError) -> [String] {
        try names(at: path).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Reads every entry and closes `dir`.
    private static func read(_ dir: OpaquePointer) -> [[UInt8]] {
        defer { closedir(dir) }
        var names: [[UInt8]] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix(while: { $0 != 0 })) }
            if name == [0x2E] || name == [0x2E, 0x2E] { continue }
            names.append(name)
        }
        return names
    }
}

/// Why a directory could not be listed: the errno of `opendir`.
public struct DirectoryListingError: Error, Sendable, Equatable, CustomStringConvertible {
    public let code: Int32
    public var description: String { errnoText(code) }
}
