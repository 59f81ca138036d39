import Synchronization
import CVMFSFormat

/// Records what is opened below one directory while a `profile record` runs
/// (docs/profiles.md): whole files at `open`, chunks of chunked files when a
/// read first touches them, each once, in first-touch order.
///
/// When nothing records, the cost on `open` and on a chunk's first read is
/// one relaxed atomic load.
public final class ProfileRecorder: Sendable {
    private struct Recording {
        /// The recorded directory's repository path followed by "/"; "/" for the root.
        var prefix: [UInt8]
        var seen: Set<StartupProfile.Item> = []
        var items: [StartupProfile.Item] = []
    }

    private let active = Atomic<Bool>(false)
    private let recording = Mutex<Recording?>(nil)

    public init() {}

    var isRecording: Bool { active.load(ordering: .relaxed) }

    /// Starts recording below `directory` (a repository path: "" or "/a/b"),
    /// dropping what an earlier recording had not handed out yet.
    public func start(below directory: [UInt8]) {
        var prefix = directory
        prefix.append(UInt8(ascii: "/"))
        recording.withLock { $0 = Recording(prefix: prefix) }
        active.store(true, ordering: .relaxed)
    }

    /// Ends the recording and returns it; nil when none ran.
    public func stop() -> StartupProfile? {
        active.store(false, ordering: .relaxed)
        return recording.withLock { state in
            defer { state = nil }
            return state.map { StartupProfile(items: $0.items) }
        }
    }

    /// A whole file was opened.
    func noteOpen(_ path: [UInt8]) {
        note(path, offset: nil)
    }

    /// The chunk starting at `offset` of a chunked file was first read.
    func noteChunk(_ path: [UInt8], offset: UInt64) {
        note(path, offset: offset)
    }

    private func note(_ path: [UInt8], offset: UInt64?) {
        recording.withLock { state in
            guard state != nil else { return }
            let prefix = state!.prefix
            guard path.count > prefix.count, path.starts(with: prefix) else { return }
            let item = StartupProfile.Item(path: Array(path[prefix.count...]), offset: offset)
            if state!.seen.insert(item).inserted { state!.items.append(item) }
        }
    }
}
