import CLinux
import Glibc

/// How many malloc arenas a mount's daemon uses. glibc gives each thread that meets a
/// busy arena a new one, up to eight per core, and keeps every arena's freed pages for its
/// own later use. A mount frees an old revision's catalogs and listings on whichever FUSE
/// worker let go of them last, so with one arena per worker the freed memory of every
/// revision stayed spread over arenas that the next revision's allocations did not reuse:
/// the soak's RSS (integration/soak.sh) kept climbing with the worker count. The hot paths
/// allocate nothing per request, so one shared arena costs them no contention, and RSS
/// follows what is in use. `MALLOC_ARENA_MAX` in the environment still wins.
public enum MallocArenas {
    public static func limitForDaemon() {
        guard getenv("MALLOC_ARENA_MAX") == nil else { return }
        _ = mallopt(M_ARENA_MAX, 1)
    }
}
