import Glibc
import CVMFSFormat

/// `fsck` of a client cache directory: every object file in `xx/` is hashed again and compared
/// with its name; a file that does not match is moved to `quarantaine/` (with `repair`), so the
/// next read of it fetches it anew.
///
/// The cache keeps objects decompressed while their names hash the stored (usually
/// zlib-deflated) bytes, so a file matches when either its plain bytes or their deflation at
/// zlib's default level, as publishers write it, hash to the name (as upstream's `cvmfs_fsck`
/// checks). A running mount that meets a quarantined object's absence forgets it and refills
/// (`ObjectCache.open`).
public enum CacheCheck {
    public struct Report: Sendable, Equatable {
        public var checked = 0
        public var checkedBytes: Int64 = 0
        /// Cache-relative paths (`xx/rest`) whose content does not match their name.
        public var corrupt: [String] = []
        /// Cache-relative paths moved to quarantine.
        public var quarantined: [String] = []
        /// Files or folders that could not be read, with the reason.
        public var unreadable: [String] = []
    }

    /// Checks the cache at `path`; throws when it is not a readable folder.
    public static func run(directory path: String, repair: Bool) throws(DirectoryListingError) -> Report {
        var report = Report()
        _ = try DirectoryListing.names(at: path)
        for bucket in 0..<256 {
            let name = CacheDirectory.bucketName(bucket)
            let folder = path + "/" + name
            let entries: [String]
            do {
                entries = try DirectoryListing.strings(at: folder)
            } catch {
                if error.code != ENOENT { report.unreadable.append("\(folder): \(errnoText(error.code))") }
                continue
            }
            for entry in entries.sorted() {
                guard let hash = ContentHash(printable: name + entry) else { continue }
                check(cache: path, hash, relative: name + "/" + entry, repair: repair, report: &report)
            }
        }
        return report
    }

    private static func check(cache: String, _ hash: ContentHash, relative: String, repair: Bool,
                              report: inout Report) {
        let path = cache + "/" + relative
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno != ENOENT { report.unreadable.append("\(path): \(errnoText())") }
            return
        }
        defer { close(fd) }
        var plain = ObjectEncoder(algorithm: hash.algorithm, compression: .none)
        var deflated = ObjectEncoder(algorithm: hash.algorithm, compression: .zlib)
        var buffer = [UInt8](repeating: 0, count: 256 << 10)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                report.unreadable.append("\(path): \(errnoText())")
                return
            }
            if n == 0 { break }
            buffer.withUnsafeBytes { bytes in
                let slice = UnsafeRawBufferPointer(rebasing: bytes[0..<n])
                plain.consume(slice) { _ in }
                deflated.consume(slice) { _ in }
            }
            report.checkedBytes += Int64(n)
        }
        report.checked += 1
        let matches = plain.finish { _ in } == hash || deflated.finish { _ in } == hash
        guard !matches else { return }
        report.corrupt.append(relative)
        guard repair else { return }
        // The folder name is upstream's spelling (`CacheDirectory.quarantinePath`).
        mkdir(cache + "/quarantaine", 0o700)
        if rename(path, cache + "/quarantaine/" + hash.description) == 0 {
            report.quarantined.append(relative)
        } else {
            report.unreadable.append("cannot quarantine \(path): \(errnoText())")
        }
    }
}
