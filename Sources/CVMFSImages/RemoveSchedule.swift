import CVMFSFormat

/// `.metadata/remove-schedule.json` in the repository content: the images `convert` found
/// gone from the recipe (a tag removed, or moved to another digest), each with the time it
/// noticed, so that `convert --gc` removes them only once a grace period has passed
/// (docs/format/container-images.md §7). A client that resolved the old name keeps working
/// until then, and an image put back in the recipe meanwhile is simply taken off the list.
///
/// The file is written only when its content changes, so a run with nothing new publishes
/// nothing.
struct RemoveSchedule: Codable, Equatable, Sendable {
    /// One public name that no longer belongs to one image.
    struct Entry: Codable, Equatable, Sendable {
        /// The public path, `<registry>/<repository>:<tag>`.
        var name: String
        /// The image (config digest) the name pointed at.
        var image: String
        /// The manifest digest the name had, and the image's compressed layer digests,
        /// recorded when scheduling because a moved tag's `.metadata` then holds the new
        /// manifest. Nil when the manifest could not be read: no layer is removed for it.
        var manifest: String?
        var layers: [String]?
        /// When `convert` scheduled the removal, `YYYY-MM-DDTHH:MM:SSZ`.
        var scheduled: String
        /// Why, for a person reading the file: no longer in the recipe, or moved to another image.
        var reason: String
    }

    var version = 1
    var entries: [Entry] = []

    static let path = ".metadata/remove-schedule.json"

    static func load(staging: String) throws(ImageError) -> RemoveSchedule {
        let file = staging + "/" + path
        guard FS.exists(file) else { return RemoveSchedule() }
        let schedule = try JSON.decode(RemoveSchedule.self, try FS.read(file), what: file)
        guard schedule.version == 1 else { throw .manifest("\(file): version \(schedule.version) is not supported (only 1)") }
        return schedule
    }

    /// Writes the schedule, or removes the file when nothing is scheduled.
    func save(staging: String) throws(ImageError) {
        let file = staging + "/" + Self.path
        if entries.isEmpty { return try FS.remove(file) }
        try FS.makeDirectories(FS.parent(file))
        try PodmanStore.writeFile(file, JSON.encode(self))
    }

    /// Adds the removal of `entry.image` under `entry.name`, unless it is scheduled already
    /// (the first time counts). Returns whether it was added.
    @discardableResult
    mutating func schedule(_ entry: Entry) -> Bool {
        guard !entries.contains(where: { $0.name == entry.name && $0.image == entry.image }) else { return false }
        entries.append(entry)
        entries.sort { ($0.name, $0.image) < ($1.name, $1.image) }
        return true
    }

    /// Takes `name` → `image` off the schedule: the recipe wants it again. Returns the entry.
    mutating func cancel(name: String, image: Digest) -> Entry? {
        guard let index = entries.firstIndex(where: { $0.name == name && $0.image == image.description }) else { return nil }
        return entries.remove(at: index)
    }

    /// The entries scheduled at least `grace` seconds before `now`. An entry whose time cannot
    /// be read counts as due: it can only have been written by hand.
    func due(now: Int64, grace: Int64) -> [Entry] {
        entries.filter { entry in UTCDate.parse(entry.scheduled).map { now - $0 >= grace } ?? true }
    }
}
