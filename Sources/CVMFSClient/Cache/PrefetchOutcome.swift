/// What `ObjectCache.prefetch` did with an object fetched ahead of demand.
public enum PrefetchOutcome: Sendable, Equatable {
    /// Downloaded, verified and cached.
    case filled
    /// Already cached, or already on its way: nothing to do.
    case present
    /// Skipped: it would take room a reader's own fetch may need.
    case noRoom
}
