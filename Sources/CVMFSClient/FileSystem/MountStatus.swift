/// Mount-wide facts behind the magic extended attributes that do not depend
/// on the entry (docs/format/client-behaviour.md §11): `user.fqrn`,
/// `user.host`, `user.ndownload`, ...
public protocol MountStatus: Sendable {
    /// The value of a mount-wide magic attribute (name without `user.`), or nil.
    func magicAttribute(_ name: String) -> [UInt8]?
    /// Names (without `user.`) that `magicAttribute` answers.
    var magicAttributeNames: [String] { get }
    /// `statfs` figures of the cache.
    func cacheStatistics() -> (limit: UInt64, used: UInt64)?
    /// Counts (`user.nioerr`) and logs an I/O error returned to a user.
    func countIOError(_ reason: String)
}
