import Glibc
import CVMFSFormat

/// An exclusive lock on a staging tree's work folder for the length of a conversion. Two
/// conversions into one staging tree would make and remove each other's half-made layer
/// copies and blobs; the second is refused instead. The kernel drops the lock when the
/// process ends, also when it is killed, so an interrupted run never leaves it held.
final class WorkLock {
    private let fd: Int32

    init(work: String) throws(ImageError) {
        let path = work + "/lock"
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .io(path: path, reason: "create: \(errnoText())") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let reason = errno == EWOULDBLOCK ? "another conversion into this staging tree is running" : "flock: \(errnoText())"
            close(fd)
            throw .io(path: path, reason: reason)
        }
    }

    deinit { close(fd) }
}
