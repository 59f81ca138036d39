import Glibc
import CVMFSFormat

/// A start-up profile to publish (`publish --profile PATH=FILE`): stored as
/// `PATH/.cvmfsprofile` (docs/profiles.md).
public struct ProfileSource: Sendable, Equatable {
    /// The profiled directory, relative to the repository root.
    public var directory: String
    /// The recorded profile on disk.
    public var file: String

    public init(directory: String, file: String) {
        self.directory = directory
        self.file = file
    }
}

extension SourceTree {
    /// Adds (or replaces) `<directory>/.cvmfsprofile` with the content of the
    /// profile file, which must parse; the source folder is not touched.
    mutating func addProfile(_ profile: ProfileSource) throws(PublishError) {
        let parts = profile.directory.split(separator: "/").filter { !$0.isEmpty && $0 != "." }
        guard !parts.isEmpty else {
            throw .invalidOptions("--profile \(profile.directory)=\(profile.file): profiles of the repository root are not supported; name a directory below it")
        }
        let repositoryPath = "/" + parts.joined(separator: "/")
        guard let index = entries.firstIndex(where: { $0.repositoryPath == repositoryPath }), entries[index].kind == .directory else {
            throw .invalidOptions("--profile \(profile.directory)=\(profile.file): \(repositoryPath) is not a directory of the source tree")
        }
        let bytes = try Self.readProfile(profile.file)
        do {
            _ = try StartupProfile(bytes: bytes)
        } catch {
            throw .source(path: profile.file, reason: "not a usable start-up profile: \(error)")
        }
        var st = stat()
        guard stat(profile.file, &st) == 0 else { throw .source(path: profile.file, reason: "cannot stat: \(errnoText())") }
        let name = Array(StartupProfile.fileName.utf8)
        var entry = try Self.makeEntry(name: name, repositoryPath: repositoryPath + "/" + StartupProfile.fileName,
                                       sourcePath: profile.file, st: st)
        entry.mode = S_IFREG | 0o644
        entry.uid = 0
        entry.gid = 0
        entry.xattrs = []
        entry.linkCountOnDisk = 1
        if let existing = entries[index].children.first(where: { entries[$0].name == name }) {
            entries[existing] = entry
            return
        }
        entries.append(entry)
        var children = entries[index].children
        children.append(entries.count - 1)
        children.sort { entries[$0].name.lexicographicallyPrecedes(entries[$1].name) }
        entries[index].children = children
    }

    private static func readProfile(_ path: String) throws(PublishError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .source(path: path, reason: "cannot open: \(errnoText())") }
        defer { close(fd) }
        var bytes = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw .source(path: path, reason: "cannot read: \(errnoText())") }
            if n == 0 { return bytes }
            bytes += buffer[0..<n]
        }
    }
}
