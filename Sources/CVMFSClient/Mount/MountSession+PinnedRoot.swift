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
            guard let timestamp = UTCDate.parse(date) else {
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
        if let problem = DirectoryPath.create(workspace, mode: 0o700) { throw .cache(problem) }
        let file = workspace + "/history.\(fqrn).\(getpid())"
        if let problem = SmallFile.write(file, bytes, mode: 0o600) { throw .cache(problem) }
        return file
    }
}
