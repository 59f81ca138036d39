import Glibc
import CVMFSFormat

/// The root catalog a mount serves when the configuration pins one instead
/// of following the manifest (docs/format/client-behaviour.md §7):
/// `CVMFS_ROOT_HASH`, a named tag (`CVMFS_REPOSITORY_TAG`) or the newest tag
/// at a date (`CVMFS_REPOSITORY_DATE`), looked up in the history database the
/// signed manifest names, so a tag is as trusted as the manifest.
struct PinnedRoot {
    var rootCatalog: ContentHash
    /// The tag it came from; nil for `CVMFS_ROOT_HASH`.
    var tag: RepositoryTag?

    /// Nil when nothing is pinned. The root hash wins over a tag, the tag over a date, as upstream.
    static func resolve(_ configuration: ClientConfiguration, manifest: Manifest, provider: CachedObjectProvider) throws(MountError) -> PinnedRoot? {
        let fqrn = configuration.fqrn
        if let text = configuration.rootHash {
            guard let hash = ContentHash(printable: text) else {
                throw .configuration("\(fqrn): CVMFS_ROOT_HASH=\(text) is not a content hash")
            }
            return PinnedRoot(rootCatalog: hash, tag: nil)
        }
        let wanted: String
        let find: (HistoryDatabase) throws(HistoryError) -> RepositoryTag?
        if let name = configuration.repositoryTag {
            wanted = "tag '\(name)' (CVMFS_REPOSITORY_TAG)"
            find = { history throws(HistoryError) in try history.tag(named: name) }
        } else if let date = configuration.repositoryDate {
            guard let timestamp = parseUTCDate(date) else {
                throw .configuration("\(fqrn): CVMFS_REPOSITORY_DATE=\(date) is not a date of the form YYYY-MM-DDTHH:MM:SSZ")
            }
            wanted = "a tag published at or before \(date) (CVMFS_REPOSITORY_DATE)"
            find = { history throws(HistoryError) in try history.newestTag(notAfter: timestamp) }
        } else {
            return nil
        }
        guard let historyHash = manifest.history else {
            throw .catalog("\(fqrn): cannot mount \(wanted): the repository publishes no tag history (no key H in its manifest)")
        }
        let tag: RepositoryTag?
        do {
            let bytes = try provider.readSmallObject(historyHash, suffix: .history)
            let file = try temporaryCopy(bytes, in: configuration.workspace, fqrn: fqrn)
            defer { unlink(file) }
            let history = try HistoryDatabase.open(path: file, writable: false)
            tag = try find(history)
        } catch {
            throw .catalog("\(fqrn): history database \(historyHash.objectPath(suffix: .history)): \(error)")
        }
        guard let tag else {
            throw .catalog("\(fqrn): cannot mount \(wanted): the history database of revision \(manifest.revision) has no such tag")
        }
        return PinnedRoot(rootCatalog: tag.rootCatalog, tag: tag)
    }

    /// SQLite reads a file, not memory: the history goes to the workspace
    /// for as long as the lookup takes.
    private static func temporaryCopy(_ bytes: [UInt8], in workspace: String, fqrn: String) throws(MountError) -> String {
        if let problem = MountSession.makeDirectories(workspace) { throw .cache(problem) }
        let file = workspace + "/history.\(fqrn).\(getpid())"
        if let problem = SmallFile.write(file, bytes, mode: 0o600) { throw .cache(problem) }
        return file
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` as UNIX seconds, the only form upstream accepts.
    static func parseUTCDate(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count == 20, bytes[4] == 0x2D, bytes[7] == 0x2D, bytes[10] == 0x54, bytes[13] == 0x3A,
              bytes[16] == 0x3A, bytes[19] == 0x5A else { return nil }
        func number(_ range: Range<Int>) -> Int32? {
            var value: Int32 = 0
            for byte in bytes[range] {
                guard byte >= 0x30 && byte <= 0x39 else { return nil }
                value = value * 10 + Int32(byte - 0x30)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        var fields = tm()
        fields.tm_year = year - 1900
        fields.tm_mon = month - 1
        fields.tm_mday = day
        fields.tm_hour = hour
        fields.tm_min = minute
        fields.tm_sec = second
        return Int64(timegm(&fields))
    }
}
