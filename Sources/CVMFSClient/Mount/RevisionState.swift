/// The revision a mount serves and when it next looks for a newer one.
import CVMFSFormat

struct RevisionState: Sendable {
    var manifest: Manifest
    /// Set when the last check failed (network, signature): the mount keeps
    /// serving its revision and retries sooner (docs/format/client-behaviour.md §7).
    var offline = false
    var lastCheck: Double = monotonicNow()
    var lastError: String? = nil
    var switches = 0
}
